// Renders progress events on stderr: listr2 tasks on a terminal (one task per step key, rollback as
// its own group), plain prefixed lines otherwise (CI logs), and only warnings and errors with --json.
// stdout is never written: it is reserved for the command's result.
import type { ChangeAction, EventSink, ProgressEvent } from '../core/events';

export interface ProgressRenderer extends EventSink {
  /** Finishes rendering (stops the spinner, releases the terminal). Safe to call twice. */
  close(): void | Promise<void>;
}

export interface ProgressRendererOptions {
  json: boolean;
  verbose: boolean;
  tty: boolean;
  /** Where human text goes; process.stderr by default (tests pass their own). */
  stream?: NodeJS.WritableStream;
}

export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  if (options.json) return new PlainRenderer(stream, { verbose: false, errorsOnly: true });
  if (options.tty) return new ListrProgressRenderer(stream, options.verbose);
  return new PlainRenderer(stream, { verbose: options.verbose, errorsOnly: false });
}

const DONE_VERB: Record<ChangeAction, string> = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  noop: 'unchanged',
};
const DONE_MARK: Record<ChangeAction, string> = { create: '[+]', update: '[~]', delete: '[-]', noop: '[=]' };

/** Keys the engine gives imperative steps (Run.step); apply() tasks use their task key. */
function isImperativeStep(key: string): boolean {
  return key.startsWith('step-');
}

function withId(title: string, id: string | undefined): string {
  return id ? `${title} (${id})` : title;
}

/**
 * The plain line for one event, or undefined when it is not shown. `lastUpdate` de-duplicates
 * repeated `step-update` messages per key (a wait polling every few seconds says the same thing).
 */
export function plainLine(
  event: ProgressEvent,
  options: { verbose: boolean; errorsOnly: boolean },
  lastUpdate = new Map<string, string>(),
): string | undefined {
  if (options.errorsOnly) {
    if (event.kind === 'log' && event.level === 'warn') return `[!] warning: ${event.message}`;
    if (event.kind === 'step-fail') return `[x] failed: ${event.title}: ${event.error}`;
    if (event.kind === 'rollback-step' && !event.ok)
      return `[x] rollback failed: ${event.title}: ${event.error ?? 'unknown error'}`;
    return undefined;
  }
  switch (event.kind) {
    case 'plan': {
      if (!options.verbose) return undefined;
      const count = (a: ChangeAction) => event.changes.filter((c) => c.action === a).length;
      return `[=] plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('noop')} unchanged`;
    }
    case 'step-start':
      lastUpdate.delete(event.key);
      return options.verbose || isImperativeStep(event.key) ? `[>] ${event.title}` : undefined;
    case 'step-update': {
      if (lastUpdate.get(event.key) === event.message) return undefined;
      lastUpdate.set(event.key, event.message);
      return `[~] ${event.message}`;
    }
    case 'step-done':
      lastUpdate.delete(event.key);
      if (!event.action) return `[✓] ${event.title}`;
      if (event.action === 'noop' && !options.verbose) return undefined;
      return `${DONE_MARK[event.action]} ${DONE_VERB[event.action]} ${withId(event.title, event.id)}`;
    case 'step-skip':
      return `[/] skipped ${event.title}: ${event.reason}`;
    case 'step-fail':
      return `[x] failed: ${event.title}: ${event.error}`;
    case 'rollback-start':
      return `[!] rolling back ${event.entries} change${event.entries === 1 ? '' : 's'}`;
    case 'rollback-step':
      return event.ok
        ? `[<] rolled back: ${event.title}`
        : `[x] rollback failed: ${event.title}: ${event.error ?? 'unknown error'}`;
    case 'log':
      if (event.level === 'warn') return `[!] warning: ${event.message}`;
      if (event.level === 'debug') return options.verbose ? `[.] ${event.message}` : undefined;
      return event.message;
  }
}

class PlainRenderer implements ProgressRenderer {
  private readonly lastUpdate = new Map<string, string>();

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly options: { verbose: boolean; errorsOnly: boolean },
  ) {}

  emit(event: ProgressEvent): void {
    const line = plainLine(event, this.options, this.lastUpdate);
    if (line !== undefined) this.stream.write(`${line}\n`);
  }

  close(): void {}
}

// --- listr2 on a terminal -------------------------------------------------------------------------

// listr2 is loaded lazily: only a terminal run pays for it.
type Listr2 = typeof import('listr2');
type AnyListr = import('listr2').Listr<object, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Wrapper = { title: string; output: string; skip(message?: string): void };
type Outcome = { ok: true } | { ok: false; error: string } | { skip: string };

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface LiveTask {
  title: string;
  output?: string;
  wrapper?: Wrapper;
  finished: boolean;
  finish(outcome: Outcome): void;
}

/** A list that stays open until `gate` resolves; `ready` once listr2 has started its declared tasks. */
interface OpenList {
  list?: AnyListr;
  gate: Deferred;
  ready: Deferred;
  queue: ProgressEvent[];
}

function openList(): OpenList {
  return { gate: deferred(), ready: deferred(), queue: [] };
}

/** Starts a task added to a list that is already running (listr2 9 only runs the tasks declared before run()). */
function runAdded(list: AnyListr): void {
  const task = list.tasks[list.tasks.length - 1];
  void (list as unknown as { runTask(t: unknown): Promise<void> }).runTask(task).catch(() => undefined);
}

/**
 * listr2 runs a task list declared up front; our steps arrive as events. Each list here holds an
 * untitled "barrier" task (not rendered) that keeps it running until close(); tasks added later are
 * started through the list's runTask (not in listr2's typings, present in its 9.x runtime), each one
 * waiting on a promise that the step's done/fail/skip event settles. Events that arrive before listr2
 * has started a list's declared tasks are queued: added earlier, a task would be run twice.
 */
class ListrProgressRenderer implements ProgressRenderer {
  private readonly root = openList();
  private running?: Promise<unknown>;
  private readonly tasks = new Map<string, LiveTask>();
  private rollback?: OpenList;
  private closed = false;
  /** Set when listr2 cannot render here: everything is (re)told as plain lines. */
  private plain?: PlainRenderer;
  private readonly seen: ProgressEvent[] = [];
  private held?: { release(): void };

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly verbose: boolean,
  ) {}

  emit(event: ProgressEvent): void {
    if (this.closed) return;
    if (this.plain) return this.plain.emit(event);
    this.seen.push(event);
    if (event.kind === 'plan' || (event.kind === 'log' && event.level === 'debug' && !this.verbose)) return;
    if (!this.root.list) {
      this.root.queue.push(event);
      if (!this.running) this.start();
      return;
    }
    this.handle(event);
  }

  private start(): void {
    const { Listr, DefaultRenderer, ListrLogger, ProcessOutput, ANSI_ESCAPE_CODES } =
      require('listr2') as Listr2;
    // Rendered on stderr even when stdout is redirected (listr2's default checks stdout).
    class StderrRenderer extends DefaultRenderer {
      static override nonTTY = true;
    }
    // While it draws, listr2 holds back other writes to both streams (a result printed on stdout in
    // the middle of a frame would be erased by the next one) and replays them when it ends, each on
    // its own stream and in order; unlike listr2's own replay, without adding a newline to each write.
    class HeldOutput extends ProcessOutput {
      // Held from the first event on (listr2 itself only starts after loading its renderer): hijack
      // is called twice then, the second time by listr2.
      override hijack(): void {
        if ((this as unknown as { active?: boolean }).active) return;
        super.hijack();
      }
      override release(): void {
        if (!(this as unknown as { active?: boolean }).active) return;
        const held = Object.values(this.stream)
          .flatMap((s) => s.release())
          .sort((a, b) => a.time - b.time);
        for (const w of held) (w.stream ?? process.stderr).write(w.entry);
        this.stream.stdout.write(ANSI_ESCAPE_CODES.CURSOR_SHOW);
        (this as unknown as { active: boolean }).active = false;
      }
    }
    const out = this.stream as NodeJS.WriteStream;
    const other = out === process.stdout ? process.stderr : process.stdout;
    const held = new HeldOutput(out, other);
    held.hijack();
    this.held = held;
    const logger = new ListrLogger({ processOutput: held });
    const list: AnyListr = new Listr([this.barrier(this.root, () => list)], {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      renderer: StderrRenderer,
      rendererOptions: { logger, collapseSubtasks: false, collapseErrors: false },
    }) as AnyListr;
    this.running = list.run().catch((error: unknown) => this.fallBack(error));
  }

  private fallBack(error: unknown): void {
    if (this.plain) return;
    this.held?.release();
    this.plain = new PlainRenderer(this.stream, { verbose: this.verbose, errorsOnly: false });
    this.stream.write(
      `[!] progress display unavailable (${error instanceof Error ? error.message : String(error)}); plain output follows\n`,
    );
    for (const event of this.seen.splice(0)) this.plain.emit(event);
    this.root.ready.resolve();
    this.rollback?.ready.resolve();
  }

  /** The untitled task that holds `open` running; when listr2 starts it, queued events are handled. */
  private barrier(open: OpenList, list: () => AnyListr) {
    return {
      task: () => {
        open.list = list();
        for (const event of open.queue.splice(0)) this.handle(event);
        open.ready.resolve();
        return open.gate.promise;
      },
    };
  }

  private add(list: AnyListr, live: LiveTask, run: () => Promise<void>): void {
    list.add({
      title: live.title,
      task: async (_ctx: unknown, wrapper: Wrapper) => {
        live.wrapper = wrapper;
        wrapper.title = live.title;
        if (live.output) wrapper.output = live.output;
        await run();
      },
    });
    runAdded(list);
  }

  private startStep(key: string, title: string): LiveTask {
    let settle!: (outcome: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    const live: LiveTask = {
      title,
      finished: false,
      finish: (o) => {
        live.finished = true;
        settle(o);
      },
    };
    this.tasks.set(key, live);
    this.add(this.root.list!, live, async () => {
      const o = await outcome;
      if ('skip' in o) live.wrapper?.skip(o.skip);
      else if (!o.ok) throw new Error(o.error);
    });
    return live;
  }

  private liveOrNew(key: string, title: string): LiveTask {
    const live = this.tasks.get(key);
    return live && !live.finished ? live : this.startStep(key, title);
  }

  private setTitle(live: LiveTask, title: string): void {
    live.title = title;
    if (live.wrapper) live.wrapper.title = title;
  }

  private handle(event: ProgressEvent): void {
    if (this.plain) return;
    switch (event.kind) {
      case 'step-start': {
        const existing = this.tasks.get(event.key);
        if (existing && !existing.finished) this.setTitle(existing, event.title);
        else this.startStep(event.key, event.title);
        return;
      }
      case 'step-update': {
        const live = this.tasks.get(event.key);
        if (live && !live.finished) {
          live.output = event.message;
          if (live.wrapper) live.wrapper.output = event.message;
        } else if (!event.key.startsWith('rollback:')) {
          this.note(event.message);
        }
        return;
      }
      case 'step-done': {
        const live = this.liveOrNew(event.key, event.title);
        this.setTitle(
          live,
          event.action ? `${DONE_VERB[event.action]} ${withId(event.title, event.id)}` : event.title,
        );
        live.finish({ ok: true });
        return;
      }
      case 'step-skip': {
        const live = this.liveOrNew(event.key, event.title);
        live.finish({ skip: `${event.title}: ${event.reason}` });
        return;
      }
      case 'step-fail': {
        const live = this.liveOrNew(event.key, event.title);
        this.setTitle(live, `failed: ${event.title}`);
        live.finish({ ok: false, error: event.error });
        return;
      }
      case 'rollback-start':
        this.startRollback(event.entries);
        return;
      case 'rollback-step': {
        if (!this.rollback) this.startRollback(0);
        const group = this.rollback!;
        if (!group.list) group.queue.push(event);
        else
          this.add(group.list, { title: event.title, finished: true, finish: () => undefined }, async () => {
            if (!event.ok) throw new Error(event.error ?? 'rollback failed');
          });
        return;
      }
      case 'log':
        this.note(event.level === 'warn' ? `warning: ${event.message}` : event.message);
        return;
      default:
        return;
    }
  }

  /** A line outside any task: listr2 buffers writes to the stream while it renders and prints them after. */
  private note(message: string): void {
    this.stream.write(`${message}\n`);
  }

  /** The rollback group: a task whose subtasks are the undo steps. */
  private startRollback(entries: number): void {
    const group = openList();
    this.rollback = group;
    const root = this.root.list!;
    root.add({
      title: `rolling back ${entries} change${entries === 1 ? '' : 's'}`,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      task: (_ctx: unknown, wrapper: any) => {
        const list: AnyListr = wrapper.newListr([this.barrier(group, () => list)], {
          concurrent: true,
          exitOnError: false,
        });
        return list;
      },
    });
    runAdded(root);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.running) return;
    // Let listr2 start the lists so every queued event becomes a task, then finish whatever is open.
    await Promise.race([this.root.ready.promise, this.running]);
    if (this.rollback) await Promise.race([this.rollback.ready.promise, this.running]);
    for (const live of this.tasks.values()) if (!live.finished) live.finish({ skip: 'not finished' });
    this.rollback?.gate.resolve();
    this.root.gate.resolve();
    await this.running;
  }
}
