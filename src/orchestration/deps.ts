// What every workflow receives: built once per command run by the base command, never read from
// globals or process.env deeper down.
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../core/clock';
import type { EventSink } from '../core/events';
import type { ProviderRegistry } from '../provider/provider';

export interface WorkflowDeps {
  clients: AwsClients;
  clock: Clock;
  events: EventSink;
  region: string;
  /** $K3SCTL_HOME (journals under runs/). */
  home: string;
  /** Id of this run (journal file name, JSON `run`). */
  runId: string;
  /** Set when running against the embedded sandbox (some waits are shortened, SSH mapping exists). */
  sandbox?: boolean;
  /** Every kind k3sctl writes (src/resources/registry.ts): rollback undoes a journal entry through its provider. */
  providers: ProviderRegistry;
  /** Per-step wait timeouts may be scaled (tests); 1 by default. */
  timeoutScale?: number;
}

/**
 * A run failed. `changes` is what it did; `rolledBack` what its rollback undid; `leftovers` what the
 * rollback tried and failed to undo (exit 3 when non-empty); `notRolledBack` what it did that no
 * rollback undoes (a delete cannot be undone), so the account is not back where the run started;
 * `suggestion` then says how to finish instead (run the command again).
 */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
  /** The run whose journal `runs rollback` finishes (set by `runs rollback`; otherwise the failed command's own run). */
  run?: string;
  constructor(
    override readonly cause: unknown,
    readonly rolledBack: { type: string; name: string; id?: string }[],
    readonly leftovers: { type: string; name: string; id?: string; error: string }[],
    readonly changes: import('../core/events').PlannedChange[] = [],
    readonly notRolledBack: {
      action: import('../core/events').ChangeAction;
      type: string;
      name: string;
      id?: string;
      reason: string;
    }[] = [],
    readonly suggestion?: string,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** The run's dependencies with the registry of every provider (loaded with the first command that runs a workflow). */
export async function workflowDeps(parts: Omit<WorkflowDeps, 'providers'>): Promise<WorkflowDeps> {
  const { providers } = await import('../resources/registry');
  return { ...parts, providers };
}
