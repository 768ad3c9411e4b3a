// What every workflow receives: built once per command run by the base command, never read from
// globals or process.env deeper down.
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../core/clock';
import type { EventSink } from '../core/events';

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
  /** Per-step wait timeouts may be scaled (tests); 1 by default. */
  timeoutScale?: number;
}

/** A run failed; `leftovers` lists what rollback could not undo (exit 3 when non-empty). */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
  constructor(
    override readonly cause: unknown,
    readonly rolledBack: { type: string; name: string; id?: string }[],
    readonly leftovers: { type: string; name: string; id?: string; error: string }[],
    readonly changes: import('../core/events').PlannedChange[] = [],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
