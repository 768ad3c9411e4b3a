// The engine's contract: tasks (one desired resource each, kops-style), the journal entries that make
// rollback possible after a failure or a crash, and the run context passed to every task.
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../core/clock';
import type { ChangeAction, EventSink } from '../core/events';
import type { FieldChange } from './fieldChange';

/** What undoes one write; resolved through the undo registry of src/resources (by `type`). */
export interface UndoRecord {
  /** CloudFormation-style type whose undo handler applies, e.g. AWS::EC2::SecurityGroup. */
  type: string;
  /** `delete` what the run created, or `restore` what it changed. */
  action: 'delete' | 'restore';
  /** Everything the handler needs, JSON-serialisable (ids, names, previous values, client tokens). */
  data: Record<string, unknown>;
}

export interface JournalEntry {
  seq: number;
  /** `intended` is written before the AWS write, `done` after it, `undone` after rollback. */
  status: 'intended' | 'done' | 'failed' | 'undone' | 'undo-failed';
  action: ChangeAction;
  type: string;
  name: string;
  id?: string;
  region: string;
  undo?: UndoRecord;
  at: number;
  error?: string;
}

export interface RunContext {
  runId: string;
  clients: AwsClients;
  clock: Clock;
  events: EventSink;
  journal: Journal;
  region: string;
  /**
   * The output (actual state) of a task already found or created in this run; undefined while it does
   * not exist (a dry run of a plan that creates it, or a task not run yet).
   */
  get<A>(ref: TaskRef<A>): A | undefined;
  /** Aborts when the run is interrupted; waits and retries stop at once with InterruptedError. */
  signal?: AbortSignal;
  /** Multiplier for per-step wait timeouts (WorkflowDeps.timeoutScale); 1 when unset. */
  timeoutScale?: number;
}

export interface JournalWrite {
  /** Call after the write succeeded, with the id AWS returned and how to undo it. */
  done(result: { id?: string; undo?: UndoRecord }): void;
  /** Call when the write failed (nothing to undo unless `undo` says so). */
  failed(error: unknown, undo?: UndoRecord): void;
}

/** A write about to happen, as the journal records it first. `undo` may carry what is known before (name, token). */
export interface JournalIntent {
  action: ChangeAction;
  type: string;
  name: string;
  id?: string;
  undo?: UndoRecord;
}

export interface Journal {
  readonly runId: string;
  /** Write-ahead record of a write about to happen. */
  intend(entry: JournalIntent): JournalWrite;
  entries(): JournalEntry[];
}

/**
 * A typed handle on a task: what a task names to depend on another and to read its output through
 * ctx.get. The engine keeps outputs by `key`; `A` is the state the task finds or creates. A Task is
 * its own ref; taskRef() makes one for a task built elsewhere (or converged by an earlier apply).
 */
export interface TaskRef<A> {
  readonly key: string;
  /** Carries `A` for the compiler only: never set. */
  readonly __state?: A;
}

/** One desired resource. The engine finds it, diffs, and creates or updates it only when needed. */
export interface Task<A = unknown> extends TaskRef<A> {
  /** Unique within a plan, e.g. `securityGroup` or `asg/workers`. */
  key: string;
  /** CloudFormation-style type name. */
  type: string;
  /** Human name (the AWS name where there is one). */
  name: string;
  /** Tasks this one runs after (their outputs are available through ctx.get). */
  dependsOn?: readonly TaskRef<unknown>[];
  /** Current state, or undefined when it does not exist. Read-only; fails when ownership is ambiguous. */
  find(ctx: RunContext): Promise<A | undefined>;
  /**
   * Managed fields that differ, typed (which field, from what to what, whether it forces a replacement);
   * empty when in sync. The plan shows them through renderChange (`desired: 3 -> 5`).
   */
  diff?(actual: A, ctx: RunContext): FieldChange[];
  /**
   * What a create would set that the user chose, as `field: value` lines shown under the create in the
   * plan (the same names as the diff's). Settings k3sctl always uses the same way are left out.
   */
  settings?(ctx: RunContext): string[];
  /** Creates it, tagged in the same call, and returns its state. Must journal through ctx.journal. */
  create(ctx: RunContext): Promise<A>;
  /** Applies `changes` in place; must journal a `restore` undo through ctx.journal. */
  update?(actual: A, changes: FieldChange[], ctx: RunContext): Promise<A>;
  /**
   * Replaces the resource for `changes` some of which say `replace` (no in-place update exists for
   * them). Without it the engine refuses such a plan (UserError) before any write.
   */
  replace?(actual: A, changes: FieldChange[], ctx: RunContext): Promise<A>;
  /**
   * For a kind without `replace`: what the user can do about a change marked `replace`, as the hint of the
   * engine's refusal, and the input (flag or file field) it names. Default: delete it and run again.
   */
  replaceAdvice?: { hint: string; input?: string };
  /** The AWS id of the actual resource. */
  id(actual: A): string;
}

