// The clients of a run: the simulated account of the sandbox (opened from $K3SCTL_HOME/sandbox, with
// its faults, seed and behaviour override from the environment) or AWS (region, profile, endpoint,
// MFA prompt), with the clock that goes with them. Also where the state lives and how runs are named.
//
// Environment knobs read here (and nowhere deeper):
//   K3SCTL_HOME               state directory (default ~/.k3sctl)
//   K3SCTL_SANDBOX_FAULTS     fault rules of the sandbox (src/sandbox/faults.ts)
//   K3SCTL_SANDBOX_SEED       seed of the sandbox's random faults
//   K3SCTL_SANDBOX_BEHAVIOR   behaviour override of this invocation (see sandboxBehavior.ts)
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { UserError } from '../../core/errors';
import type { EventSink } from '../../core/events';
import { workflowDeps, type WorkflowDeps } from '../../orchestration/deps';
import { sandboxStore } from './sandboxAccount';
import { parseSandboxBehavior, realDelayPlugin } from './sandboxBehavior';

/** The state directory: journals of runs, the sandbox account, known hosts. */
export function stateHome(): string {
  return process.env.K3SCTL_HOME ?? path.join(os.homedir(), '.k3sctl');
}

/** A run's id, its journal's file name: YYYYMMDDTHHMMSS-xxxxxx (UTC). */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${crypto.randomBytes(3).toString('hex')}`;
}

/** What building the clients needs from the command. */
export interface DepsInput {
  runId: string;
  region: string;
  home: string;
  sandbox: boolean;
  profile?: string;
  endpointUrl?: string;
  events: EventSink;
  mfaCodeProvider: (serial: string) => Promise<string>;
  /** Registers what to release when the command ends (released newest first). */
  onCleanup: (release: () => Promise<void> | void) => void;
}

/** Builds the run's dependencies: clients (AWS or sandbox) and clock, with the given events. */
export async function buildDeps(o: DepsInput): Promise<WorkflowDeps> {
  const { runId, region, home, events } = o;
  if (o.sandbox) {
    const [store, { sandboxClients }, { parseFaultRules, FaultParseError }] = await Promise.all([
      sandboxStore(home),
      import('../../sandbox/clients'),
      import('../../sandbox/faults'),
    ]);
    let faults;
    try {
      faults = parseFaultRules(process.env.K3SCTL_SANDBOX_FAULTS ?? '');
    } catch (error) {
      if (error instanceof FaultParseError)
        throw new UserError(error.message, undefined, 'K3SCTL_SANDBOX_FAULTS');
      throw error;
    }
    const { behavior, realCallDelayMs } = parseSandboxBehavior(process.env.K3SCTL_SANDBOX_BEHAVIOR);
    const sandbox = await store.open({ faults, seed: Number(process.env.K3SCTL_SANDBOX_SEED ?? 42) });
    // The override lasts for this invocation: the saved account keeps its own behaviour.
    const saved = structuredClone(sandbox.state.behavior);
    if (behavior) {
      Object.assign(sandbox.state.behavior, behavior, {
        timings: { ...sandbox.state.behavior.timings, ...(behavior.timings ?? {}) },
      });
    }
    // Persisted after every write too: a killed invocation leaves the account with the writes it made,
    // as AWS would, for the next run to converge or for `runs rollback` to undo.
    sandbox.onWrite = () => store.save(sandbox, saved);
    o.onCleanup(() => {
      sandbox.onWrite = undefined;
      sandbox.state.behavior = saved;
      store.save(sandbox);
      store.release();
    });
    let clients = sandboxClients(sandbox, region);
    if (realCallDelayMs > 0) {
      const { AwsClients } = await import('../../aws/clients');
      clients = new AwsClients({
        ...clients.options,
        plugins: [...(clients.options.plugins ?? []), realDelayPlugin(realCallDelayMs)],
      });
    }
    return workflowDeps({ clients, clock: sandbox.clock, events, region, home, runId, sandbox: true });
  }
  const [{ AwsClients }, { systemClock }] = await Promise.all([
    import('../../aws/clients'),
    import('../../core/clock'),
  ]);
  const clients = new AwsClients({
    region,
    profile: o.profile,
    endpointUrl: o.endpointUrl,
    mfaCodeProvider: o.mfaCodeProvider,
  });
  o.onCleanup(() => clients.destroy());
  return workflowDeps({ clients, clock: systemClock, events, region, home, runId });
}
