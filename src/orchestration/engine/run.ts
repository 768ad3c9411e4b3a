// One journaled run of a workflow: the run context, plan (find + diff), apply (a DAG of tasks with
// bounded concurrency, "not yet" errors retried while the run makes progress), imperative steps, the
// changes of the JSON result, and rollback from the journal when anything fails.
import { errorText, InternalError, InterruptedError, UserError } from '../../core/errors';
import type { ChangeAction, EventSink, PlannedChange } from '../../core/events';
import { RunFailedError, type WorkflowDeps } from '../deps';
import { bindContext } from '../../provider/context';
import { FileJournal } from './journal';
import { undoJournal, type UndoOptions } from './rollback';
import type { JournalEntry, RunContext, Task, TaskRef } from '../../provider/types';
import { renderChanges, type FieldChange } from '../../provider/fieldChange';
import { retryWhileNotReady, throwIfAborted } from '../../core/wait';

export interface RunOptions {
  /** Ctrl-C / SIGTERM: the run stops at the next step boundary and rolls back (exit 130). */
  signal?: AbortSignal;
  /** Max tasks in flight in apply(); default 8. */
  concurrency?: number;
  /** How long apply() retries a task failing with a "not yet" error; default 10 minutes (x timeoutScale). */
  notReadyTimeoutMs?: number;
  /** How long rollback retries one undo that is "still in use"; default 10 minutes. */
  undoTimeoutMs?: number;
}

export type WorkflowResult<T> = T & {
  run: string;
  changes: PlannedChange[];
  apiCalls: { read: number; write: number };
};

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_NOT_READY_TIMEOUT_MS = 10 * 60_000;

interface PlanResult {
  actual: unknown;
}

export class Run {
  /** Context handed to tasks and steps (clients, clock, events, journal, outputs). */
  readonly ctx: RunContext;
  private readonly outputs = new Map<string, unknown>();
  private readonly planned = new Map<string, PlanResult>();
  private readonly recorded: PlannedChange[] = [];
  private steps = 0;

  constructor(
    readonly deps: WorkflowDeps,
    readonly journal: FileJournal,
    private readonly options: RunOptions = {},
  ) {
    const outputs = this.outputs;
    this.ctx = {
      runId: deps.runId,
      clients: deps.clients,
      clock: deps.clock,
      events: deps.events,
      journal,
      region: deps.region,
      // Outputs are stored by key; the ref's type is the state its task returns (Task<A> is a TaskRef<A>).
      get: <A>(ref: TaskRef<A>) => outputs.get(ref.key) as A | undefined,
      signal: options.signal,
      timeoutScale: deps.timeoutScale ?? 1,
    };
    bindContext(this.ctx, this);
  }

  /**
   * Finds every task (in dependency order, concurrently where possible), diffs, emits a 'plan' event. No
   * writes. `imperative`: changes the workflow makes itself in steps (deletes of what the declaration
   * dropped), shown in the same plan.
   */
  async plan(tasks: Task[], imperative: PlannedChange[] = []): Promise<PlannedChange[]> {
    this.validate(tasks);
    const changes = new Map<string, PlannedChange>();
    await this.runGraph(tasks, async (task) => {
      const actual = await task.find(this.ctx);
      this.planned.set(task.key, { actual });
      if (actual !== undefined) this.outputs.set(task.key, actual);
      const diff = actual === undefined ? [] : (task.diff?.(actual, this.ctx) ?? []);
      refuseReplacement(task, diff);
      const change = planned(task, actual, renderChanges(diff));
      // A create shows the settings the user chose (an update shows the fields it changes).
      const settings = actual === undefined ? (task.settings?.(this.ctx) ?? []) : [];
      changes.set(task.key, settings.length ? { ...change, details: settings } : change);
    });
    const result = [...tasks.map((t) => changes.get(t.key)!), ...imperative];
    this.deps.events.emit({ kind: 'plan', changes: result });
    return result;
  }

  /** Converges every task: create what is missing, update what differs, nothing else. Journaled; outputs in ctx.get(task). */
  async apply(tasks: Task[]): Promise<PlannedChange[]> {
    this.validate(tasks);
    const byKey = new Map(tasks.map((t) => [t.key, t]));
    const changes = new Map<string, PlannedChange>();
    const created = new Set<string>();
    // A plan result can stand in for a fresh find only when the task's dependencies already existed at
    // plan time: a dependency created since may make the task findable (or change what it finds).
    const reusable = new Map<string, boolean>();
    const canReuse = (key: string): boolean => {
      const known = reusable.get(key);
      if (known !== undefined) return known;
      const task = byKey.get(key);
      const plan = this.planned.get(key);
      const ok =
        task !== undefined &&
        plan !== undefined &&
        dependencyKeys(task).every(
          (d) => !byKey.has(d) || (this.planned.get(d)?.actual !== undefined && canReuse(d)),
        );
      reusable.set(key, ok);
      return ok;
    };
    for (const t of tasks) canReuse(t.key);

    const failure = new AbortController();
    const signal = this.options.signal ? eitherSignal(this.options.signal, failure.signal) : failure.signal;
    await this.runGraph(
      tasks,
      async (task) => {
        const title = `${task.type} ${task.name}`;
        const local: PlannedChange[] = [];
        const ctx = this.childContext(task.key, signal, local);
        this.deps.events.emit({ kind: 'step-start', key: task.key, title });
        try {
          let first = true;
          const timeoutMs =
            (this.options.notReadyTimeoutMs ?? DEFAULT_NOT_READY_TIMEOUT_MS) * (this.deps.timeoutScale ?? 1);
          const outcome = await retryWhileNotReady(
            ctx,
            { what: title, timeoutMs, key: task.key, signal },
            async () => {
              const actual =
                first && canReuse(task.key) ? this.planned.get(task.key)!.actual : await task.find(ctx);
              first = false;
              if (actual === undefined) {
                created.add(task.key);
                return {
                  action: 'create' as ChangeAction,
                  actual: await task.create(ctx),
                  details: [] as string[],
                };
              }
              const diff = task.diff?.(actual, ctx) ?? [];
              const details = renderChanges(diff);
              if (diff.length === 0)
                return {
                  action: (created.has(task.key) ? 'create' : 'noop') as ChangeAction,
                  actual,
                  details,
                };
              const action: ChangeAction = created.has(task.key) ? 'create' : 'update';
              // A replacement (for a run that did not plan first) is refused the same way as in plan().
              refuseReplacement(task, diff);
              if (task.replace && diff.some((c) => c.replace))
                return { action, actual: await task.replace(actual, diff, ctx), details };
              if (!task.update) {
                throw new InternalError(
                  `${title} differs (${details.join(', ')}) but ${task.type} has no in-place update`,
                );
              }
              return { action, actual: await task.update(actual, diff, ctx), details };
            },
          );
          this.outputs.set(task.key, outcome.actual);
          const change = planned(task, outcome.actual, outcome.details, outcome.action);
          // The task's own journaled writes are represented by its change; other writes it made stay listed.
          for (const c of local) if (c.type !== task.type || c.name !== task.name) this.record(c);
          this.record(change);
          changes.set(task.key, change);
          this.deps.events.emit({
            kind: 'step-done',
            key: task.key,
            title,
            action: change.action,
            ...(change.id ? { id: change.id } : {}),
          });
        } catch (error) {
          for (const c of local) this.record(c);
          if (error instanceof InterruptedError && failure.signal.aborted && !this.options.signal?.aborted) {
            // Stopped because another task failed: that task reports the failure.
            this.deps.events.emit({
              kind: 'step-skip',
              key: task.key,
              title,
              reason: 'stopped after another task failed',
            });
          } else {
            this.deps.events.emit({ kind: 'step-fail', key: task.key, title, error: errorText(error) });
          }
          failure.abort(error);
          throw error;
        }
      },
      this.options.concurrency ?? DEFAULT_CONCURRENCY,
    );
    return tasks.map((t) => changes.get(t.key)!);
  }

  /** An imperative step (waits, deletes, recycle actions) reported as progress; writes inside must use journaledWrite. */
  async step<T>(title: string, fn: (ctx: RunContext) => Promise<T>): Promise<T> {
    throwIfAborted(this.options.signal);
    const key = `step-${++this.steps}`;
    const ctx = this.childContext(key, this.options.signal);
    this.deps.events.emit({ kind: 'step-start', key, title });
    try {
      const result = await fn(ctx);
      this.deps.events.emit({ kind: 'step-done', key, title });
      return result;
    } catch (error) {
      this.deps.events.emit({ kind: 'step-fail', key, title, error: errorText(error) });
      throw error;
    }
  }

  /** Records a change for the JSON result (apply() records its own). */
  record(change: PlannedChange): void {
    const same = this.recorded.find(
      (c) =>
        c.action === change.action &&
        c.type === change.type &&
        c.name === change.name &&
        (c.id === undefined || change.id === undefined || c.id === change.id),
    );
    if (!same) {
      this.recorded.push({ ...change });
      return;
    }
    if (change.id !== undefined) same.id = change.id;
    if (change.details?.length) same.details = [...new Set([...(same.details ?? []), ...change.details])];
  }

  /** Changes made so far (the JSON `changes`). */
  changes(): PlannedChange[] {
    return this.recorded.map((c) => ({ ...c }));
  }

  /** A context for one task or step: progress updates carry its key; journaled writes are recorded via `sink`. */
  private childContext(key: string, signal: AbortSignal | undefined, sink?: PlannedChange[]): RunContext {
    const events: EventSink = {
      emit: (event) =>
        this.deps.events.emit(event.kind === 'step-update' && !event.key ? { ...event, key } : event),
    };
    const ctx: RunContext = { ...this.ctx, events, signal };
    bindContext(ctx, sink ? { record: (c) => sink.push(c) } : this);
    return ctx;
  }

  /** Rejects duplicate keys, unknown dependencies and cycles (bugs in a workflow, not user errors). */
  private validate(tasks: Task[]): void {
    const byKey = new Map<string, Task>();
    for (const t of tasks) {
      if (byKey.has(t.key)) throw new InternalError(`task key ${t.key} is used twice`);
      byKey.set(t.key, t);
    }
    for (const t of tasks) {
      for (const d of dependencyKeys(t)) {
        // A dependency may also be a task converged earlier in this run (an earlier apply()).
        if (!byKey.has(d) && !this.outputs.has(d) && !this.planned.has(d)) {
          throw new InternalError(`task ${t.key} depends on unknown task ${d}`);
        }
      }
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (key: string, path: string[]): void => {
      const s = state.get(key);
      if (s === 'done') return;
      if (s === 'visiting')
        throw new InternalError(`task dependencies form a cycle: ${[...path, key].join(' -> ')}`);
      state.set(key, 'visiting');
      for (const d of dependencyKeys(byKey.get(key))) if (byKey.has(d)) visit(d, [...path, key]);
      state.set(key, 'done');
    };
    for (const t of tasks) visit(t.key, []);
  }

  /**
   * Runs `work` for every task once its dependencies (within `tasks`) are done, at most `concurrency`
   * at a time. The first failure stops scheduling; tasks in flight are awaited, then it is thrown.
   */
  private runGraph(
    tasks: Task[],
    work: (task: Task) => Promise<void>,
    concurrency = DEFAULT_CONCURRENCY,
  ): Promise<void> {
    const signal = this.options.signal;
    const inSet = new Set(tasks.map((t) => t.key));
    const pending = new Map(tasks.map((t) => [t.key, t]));
    const done = new Set<string>();
    let running = 0;
    let failed = false;
    let failure: unknown;
    const limit = Math.max(1, concurrency);
    return new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        if (!failed && signal?.aborted) {
          failed = true;
          failure = new InterruptedError();
        }
        if (!failed) {
          for (const task of pending.values()) {
            if (running >= limit) break;
            if (!dependencyKeys(task).every((d) => !inSet.has(d) || done.has(d))) continue;
            pending.delete(task.key);
            running++;
            Promise.resolve()
              .then(() => work(task))
              .then(
                () => {
                  done.add(task.key);
                },
                (error: unknown) => {
                  if (!failed) {
                    failed = true;
                    failure = error;
                  }
                },
              )
              .finally(() => {
                running--;
                pump();
              });
          }
        }
        if (running > 0) return;
        if (failed) reject(failure);
        else if (pending.size > 0)
          reject(new InternalError(`tasks never became ready: ${[...pending.keys()].join(', ')}`));
        else resolve();
      };
      pump();
    });
  }
}

/**
 * Refuses (UserError, exit 2) changes that need the resource replaced when the task does not say how
 * it replaces: plan() calls it before any write, naming the resource and the fields.
 */
function refuseReplacement(task: Task, changes: FieldChange[]): void {
  const forced = changes.filter((c) => c.replace);
  if (forced.length === 0 || task.replace) return;
  const fields = forced.map((c) => c.field).join(', ');
  throw new UserError(
    `${task.type} ${task.name}: ${fields} cannot be changed in place (${renderChanges(forced).join('; ')}); k3sctl does not replace it`,
    task.replaceAdvice?.hint ?? `delete ${task.name} and run again to create it with the new ${fields}, or keep the current ${fields}`,
    task.replaceAdvice?.input ?? forced[0].field,
  );
}

/** The keys of the tasks `task` depends on (the engine schedules and stores outputs by key). */
function dependencyKeys(task: Task | undefined): string[] {
  return (task?.dependsOn ?? []).map((d) => d.key);
}

/** Aborts when either aborts (AbortSignal.any needs Node 20.3; engines allow any Node 20). */
function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const controller = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function planned(task: Task, actual: unknown, details: string[], action?: ChangeAction): PlannedChange {
  const change: PlannedChange = {
    action: action ?? (actual === undefined ? 'create' : details.length > 0 ? 'update' : 'noop'),
    type: task.type,
    name: task.name,
  };
  if (actual !== undefined) {
    const id = task.id(actual);
    if (id) change.id = id;
  }
  if (details.length > 0 && change.action !== 'create') change.details = details;
  return change;
}

/** Starts a run without the failure handling of runWorkflow: the journal and the Run (crash tests, tools). */
export function openRun(deps: WorkflowDeps, title: string, options: RunOptions = {}): Run {
  const journal = FileJournal.create(deps.home, deps.runId, title, deps.region, () => deps.clock.now(), runTarget(deps));
  // After an interrupt no new write may start; rollback itself does not go through intend().
  journal.refuseWrites = () => (options.signal?.aborted ? new InterruptedError() : undefined);
  return new Run(deps, journal, options);
}

/** Runs `body` as one journaled run; on any failure rolls back and throws RunFailedError. */
export async function runWorkflow<T extends object>(
  deps: WorkflowDeps,
  title: string,
  body: (run: Run) => Promise<T>,
  options: RunOptions = {},
): Promise<WorkflowResult<T>> {
  const run = openRun(deps, title, options);
  const journal = run.journal;
  let result: T;
  try {
    throwIfAborted(options.signal);
    result = await body(run);
  } catch (error) {
    // A write still in flight elsewhere in the body must not start once rollback began: rollback
    // reads the journal once, so it would never undo it.
    const refuse = journal.refuseWrites;
    journal.refuseWrites = () => refuse?.() ?? new InternalError(`run ${deps.runId} is rolling back: no new write may start`);
    const interrupted = options.signal?.aborted === true;
    const cause =
      interrupted && !(error instanceof InterruptedError) && !(error instanceof UserError)
        ? new InterruptedError()
        : error;
    if (cause instanceof UserError && journal.entries().length === 0) {
      journal.end('failed', cause);
      throw cause;
    }
    const undoOptions: UndoOptions = { timeoutMs: options.undoTimeoutMs };
    let rollback;
    try {
      rollback = await undoJournal(journal, deps, undoOptions);
    } catch (rollbackError) {
      journal.end('rollback-incomplete', rollbackError);
      const kept = notRolledBack(journal.entries());
      throw new RunFailedError(
        cause,
        [],
        [{ type: 'k3sctl::Run', name: deps.runId, error: errorText(rollbackError) }],
        failedRunChanges(run.changes(), kept),
        kept,
        finishSuggestion(title, kept),
      );
    }
    const outcome =
      rollback.leftovers.length > 0
        ? 'rollback-incomplete'
        : rollback.rolledBack.length > 0
          ? 'rolled-back'
          : 'failed';
    journal.end(outcome, cause);
    const kept = notRolledBack(journal.entries());
    throw new RunFailedError(
      cause,
      rollback.rolledBack,
      rollback.leftovers,
      failedRunChanges(run.changes(), kept),
      kept,
      finishSuggestion(title, kept),
    );
  }
  // A dry run that made no write leaves no journal: `runs list` shows only runs that could have changed
  // something. (The body says it was a dry run: every workflow returns `dryRun` in its result.)
  if ((result as { dryRun?: unknown }).dryRun === true && journal.entries().length === 0) journal.discard();
  else journal.end('succeeded');
  return { ...result, run: deps.runId, changes: run.changes(), apiCalls: deps.clients.calls.snapshot() };
}

type NotRolledBackItem = RunFailedError['notRolledBack'][number];

/**
 * Writes a failed run made that stay made after its rollback: done without an undo record. A delete
 * cannot be undone (Pulumi's contract: the next delete finishes it); an update without one goes
 * forward only (cluster delete scaling a group to 0, detaching a target group). An update of a resource
 * the run created (undone with its create, or a leftover) or then deleted is said by that create or
 * delete, and one made after an update whose undo restores the whole resource (a group's replacement
 * record: capacity, processes, tag) is put back by that restore.
 */
export function notRolledBack(entries: JournalEntry[]): NotRolledBackItem[] {
  const kept = entries.filter((e) => e.status === 'done' && e.undo === undefined && e.action !== 'noop');
  const saidBy = (e: JournalEntry) =>
    entries.some(
      (o) =>
        o.type === e.type &&
        o.name === e.name &&
        ((o.action === 'create' && o.seq < e.seq && o.status !== 'failed') ||
          (o.action === 'update' && o.seq < e.seq && o.status !== 'failed' && o.undo?.action === 'restore') ||
          (o.action === 'delete' && o.seq > e.seq && o.status === 'done')),
    );
  const out: NotRolledBackItem[] = [];
  for (const e of kept) {
    if (e.action === 'update' && saidBy(e)) continue;
    if (out.some((o) => o.action === e.action && o.type === e.type && o.name === e.name && o.id === e.id)) continue;
    out.push({
      action: e.action,
      type: e.type,
      name: e.name,
      ...(e.id !== undefined ? { id: e.id } : {}),
      reason: e.action === 'delete' ? 'deleted: a delete cannot be rolled back' : `${e.action} without undo: rollback leaves it as it is`,
    });
  }
  return out;
}

/** A failed run's `changes`: what it recorded, plus journaled writes that stay made but were no change of their own. */
function failedRunChanges(recorded: PlannedChange[], kept: NotRolledBackItem[]): PlannedChange[] {
  const missing = kept.filter((k) => !recorded.some((c) => c.type === k.type && c.name === k.name));
  return [
    ...recorded,
    ...missing.map(({ action, type, name, id }) => ({ action, type, name, ...(id !== undefined ? { id } : {}) })),
  ];
}

function finishSuggestion(title: string, kept: NotRolledBackItem[]): string | undefined {
  if (kept.length === 0) return undefined;
  return `run the command again (${title}): it converges from what is there now; ${kept.length} change(s) of this run cannot be rolled back (see notRolledBack)`;
}

/** The account a run writes to, recorded in its journal header. */
export function runTarget(deps: WorkflowDeps): string {
  if (deps.sandbox) return 'sandbox';
  const endpoint = deps.clients.options.endpointUrl;
  return endpoint ? `endpoint:${endpoint}` : 'aws';
}
