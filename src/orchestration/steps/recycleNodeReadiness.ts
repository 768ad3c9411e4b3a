// The optional Kubernetes gate of a recycle: are the nodes of new instances Ready? Asked through SSM
// Run Command (`k3s kubectl get nodes -o json`) on an InService control plane; nodes are matched to
// instances by the `k3sctl.io/instance-id` label the instance side sets (userdata/bin/k3sctl-k3s-exec).
// When no control plane answers, the gate reports `unreachable` and the recycle relies on the others.
// Also the readiness wait of `cluster create` (clusterPlan waitForNodesReady).
import { describeClusterGroups } from '../../resources/autoScalingInstance';
import { runShellCommand } from '../../resources/ssmCommand';
import { InterruptedError, WaitTimeoutError } from '../../core/errors';
import type { RunContext } from '../engine';
import { gunzipSync } from 'node:zlib';

/**
 * The node listing the readiness gates ask for: one short line per node (instance-id label, Ready
 * status), gzip + base64. `kubectl get nodes -o json` is about 3 KB per node, so SSM Run Command's
 * 24,000-character output limit cut it at about ten nodes; this form fits a thousand.
 */
export const NODE_READINESS_COMMAND =
  `k3s kubectl get nodes --no-headers -o custom-columns='ID:.metadata.labels.k3sctl\\.io/instance-id,READY:.status.conditions[?(@.type=="Ready")].status' | gzip -c | base64 -w0`;

/** Why a control plane gave no node list: its SSM command succeeded with nothing on stdout. */
export const EMPTY_OUTPUT = 'SSM command output empty';

/**
 * Node condition by instance id from NODE_READINESS_COMMAND's output; undefined when the output is
 * empty (no answer: the gzip stream of even an empty list is not empty, so nothing ran or nothing
 * was returned, as with moto's emulated Run Command). Output that is not gzip + base64 is an error.
 */
export function nodeReadinessRows(base64Gzip: string | undefined): Record<string, string> | undefined {
  const encoded = (base64Gzip ?? '').trim();
  if (!encoded) return undefined;
  let text: string;
  try {
    text = gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8');
  } catch (error) {
    const sample = encoded.length > 80 ? `${encoded.slice(0, 80)}...` : encoded;
    throw new Error(`the node list is not gzip + base64 (${(error as Error).message}): '${sample}'`);
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [id, ready] = line.trim().split(/\s+/);
    if (!id || !/^i-[0-9a-f]+$/.test(id)) continue;
    out[id] = ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
  }
  return out;
}

/**
 * Node condition per instance id (`Ready`, `NotReady`, `Unknown`), or why the cluster could not be
 * asked: `unreachable` says it in one line, `answers` per control plane asked (its error).
 */
export type NodeReadiness = (
  ctx: RunContext,
  instanceIds: string[],
) => Promise<{ nodes: Record<string, string> } | { unreachable: string; answers?: Record<string, string> }>;

export type ShellRunner = (
  ctx: RunContext,
  instanceId: string,
  command: string,
  /** How long to wait for the command's result (default 60 s). */
  timeoutMs?: number,
) => Promise<{ ok: boolean; stdout: string; error?: string }>;

/**
 * Runs one command over SSM Run Command (src/resources/ssmCommand.ts). A command that ends without
 * output, or is still Pending/InProgress (or not visible yet) when the time is up, did not answer:
 * `ok: false` with why, never output to parse.
 */
export const ssmShellRunner: ShellRunner = async (ctx, instanceId, command, timeoutMs = 60_000) => {
  let res;
  try {
    res = await runShellCommand(ctx, instanceId, [command], {
      comment: 'k3sctl: node readiness',
      timeoutMs,
      signal: ctx.signal,
    });
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      return { ok: false, stdout: '', error: `SSM command not finished after ${Math.round(timeoutMs / 1000)}s (${error.lastSeen})` };
    }
    throw error;
  }
  // GetCommandInvocation cuts output at 24,000 characters: a cut node list cannot be parsed.
  if (res.truncated) return { ok: false, stdout: '', error: 'node list longer than the SSM output limit' };
  if (res.status === 'Success') {
    return res.stdout.trim() ? { ok: true, stdout: res.stdout } : { ok: false, stdout: '', error: EMPTY_OUTPUT };
  }
  return {
    ok: false,
    stdout: '',
    error: `${res.statusDetails ?? res.status}${res.stderr.trim() ? `: ${res.stderr.trim().slice(0, 200)}` : ''}`,
  };
};

export function kubernetesNodeReadiness(
  cluster: string,
  runner: ShellRunner = ssmShellRunner,
): NodeReadiness {
  // The control plane that answered last is asked first next time (no group lookup per poll).
  let preferred: string | undefined;
  const discover = async (ctx: RunContext, exclude: string[]): Promise<string[]> => {
    const groups = await describeClusterGroups(ctx.clients, cluster);
    const controlPlanes = groups
      .filter((g) => g.role === 'control-plane')
      .flatMap((g) => g.instances)
      .filter((i) => i.lifecycleState === 'InService')
      .map((i) => i.instanceId)
      .sort();
    const others = controlPlanes.filter((id) => !exclude.includes(id));
    // New control planes can answer for themselves when no other one is left.
    return others.length ? others : controlPlanes;
  };
  return async (ctx, instanceIds) => {
    const answers: Record<string, string> = {};
    const ask = async (id: string): Promise<Record<string, string> | undefined> => {
      try {
        const res = await runner(ctx, id, NODE_READINESS_COMMAND);
        const rows = res.ok ? nodeReadinessRows(res.stdout) : undefined;
        if (rows) return rows;
        answers[id] = res.ok ? EMPTY_OUTPUT : (res.error ?? 'failed');
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
        answers[id] = error instanceof Error ? error.message : String(error);
      }
      return undefined;
    };
    if (preferred) {
      const nodes = await ask(preferred);
      if (nodes) return { nodes };
      preferred = undefined;
    }
    const candidates = await discover(ctx, instanceIds);
    for (const id of candidates.slice(0, 2)) {
      const nodes = await ask(id);
      if (nodes) {
        preferred = id;
        return { nodes };
      }
    }
    const errors = Object.entries(answers).map(([id, error]) => `${id}: ${error}`);
    return {
      unreachable: candidates.length
        ? `no control plane answered (${errors.join('; ')})`
        : 'no InService control plane',
      answers,
    };
  };
}
