// One journaled run of a workflow (stub signatures; implemented by the engine work).
import type { PlannedChange } from '../../core/events';
import type { WorkflowDeps } from '../deps';
import type { RunContext, Task } from './types';

export interface RunOptions {
  /** Ctrl-C / SIGTERM: the run stops at the next step boundary and rolls back (exit 130). */
  signal?: AbortSignal;
  /** Max tasks in flight in apply(); default 8. */
  concurrency?: number;
}

export type WorkflowResult<T> = T & {
  run: string;
  changes: PlannedChange[];
  apiCalls: { read: number; write: number };
};

export class Run {
  /** Context handed to tasks and steps (clients, clock, events, journal, outputs). */
  readonly ctx!: RunContext;

  /** Finds every task (in dependency order, concurrently where possible), diffs, emits a 'plan' event. No writes. */
  plan(_tasks: Task[]): Promise<PlannedChange[]> {
    throw new Error('not implemented');
  }

  /** Converges every task: create what is missing, update what differs, nothing else. Journaled; outputs in ctx.get(key). */
  apply(_tasks: Task[]): Promise<PlannedChange[]> {
    throw new Error('not implemented');
  }

  /** An imperative step (waits, deletes, recycle actions) reported as progress; writes inside must use journaledWrite. */
  step<T>(_title: string, _fn: (ctx: RunContext) => Promise<T>): Promise<T> {
    throw new Error('not implemented');
  }

  /** Records a change for the JSON result (apply() records its own). */
  record(_change: PlannedChange): void {
    throw new Error('not implemented');
  }

  /** Changes made so far (the JSON `changes`). */
  changes(): PlannedChange[] {
    throw new Error('not implemented');
  }
}

/** Runs `body` as one journaled run; on any failure rolls back and throws RunFailedError. */
export function runWorkflow<T extends object>(
  _deps: WorkflowDeps,
  _title: string,
  _body: (run: Run) => Promise<T>,
  _options?: RunOptions,
): Promise<WorkflowResult<T>> {
  throw new Error('not implemented');
}
