// Write-ahead journal of a run under $K3SCTL_HOME/runs/<runId>.jsonl. One JSON object per line,
// appended synchronously and fsynced, so a process killed at any instant leaves a journal that a later
// `k3sctl runs rollback` can act on: a header, then entry lines (an entry's status changes are new
// lines with the same seq; the last one wins), then an `end` line with the run's outcome.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { errorText } from '../../core/errors';
import type { Journal, JournalEntry, JournalIntent, JournalWrite } from '../../provider/types';

export type RunOutcome = 'succeeded' | 'failed' | 'rolled-back' | 'rollback-incomplete';

export interface JournalHeader {
  kind: 'header';
  runId: string;
  title: string;
  region: string;
  startedAt: string;
  /** The process that ran it (a journal without an end line whose process is gone is a crashed run). */
  pid?: number;
  host?: string;
  /** Which account the run wrote to: `aws`, `sandbox` or `endpoint:URL`, so a later rollback uses the same one. */
  target?: string;
}

export interface JournalEnd {
  kind: 'end';
  outcome: RunOutcome;
  at: number;
  error?: string;
}

type JournalLine = JournalHeader | JournalEnd | ({ kind: 'entry' } & JournalEntry);

export function runsDir(home: string): string {
  return path.join(home, 'runs');
}

export function journalPath(home: string, runId: string): string {
  return path.join(runsDir(home), `${runId}.jsonl`);
}

function appendDurably(file: string, line: object): void {
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    fs.appendFileSync(fd, `${JSON.stringify(line)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A journal file on disk: writes status lines durably and keeps the folded entries in memory. */
export class FileJournal implements Journal {
  private readonly folded = new Map<number, JournalEntry>();
  private seq = 0;
  /** When set, `intend` refuses new writes (the run was interrupted or is rolling back). */
  refuseWrites?: () => Error | undefined;

  private constructor(
    readonly file: string,
    readonly runId: string,
    readonly region: string,
    private readonly now: () => number,
    readonly header: JournalHeader,
    private ended?: JournalEnd,
  ) {}

  /** Creates the journal of a new run (the runs directory with mode 0700, the header line). */
  static create(home: string, runId: string, title: string, region: string, now: () => number, target?: string): FileJournal {
    const dir = runsDir(home);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = journalPath(home, runId);
    if (fs.existsSync(file)) throw new Error(`journal ${file} already exists`);
    const header: JournalHeader = {
      kind: 'header',
      runId,
      title,
      region,
      startedAt: new Date(now()).toISOString(),
      pid: process.pid,
      host: os.hostname(),
      target,
    };
    appendDurably(file, header);
    return new FileJournal(file, runId, region, now, header);
  }

  /** Opens an existing journal (rollback of a crashed run); undefined when there is no such run. */
  static open(home: string, runId: string, now: () => number): FileJournal | undefined {
    const file = journalPath(home, runId);
    if (!/^[A-Za-z0-9._-]+$/.test(runId) || !fs.existsSync(file)) return undefined;
    const text = fs.readFileSync(file, 'utf8');
    // A crash mid-append leaves a torn last line: end it, or the next line (rollback's first mark)
    // would be glued to it and lost. (An empty file gains a blank line, which the parser skips.)
    if (!text.endsWith('\n')) fs.appendFileSync(file, '\n');
    const parsed = parseJournal(text);
    const header = parsed.header ?? { kind: 'header', runId, title: '(unknown)', region: '', startedAt: '' };
    const journal = new FileJournal(file, runId, header.region, now, header, parsed.end);
    for (const e of parsed.entries) journal.folded.set(e.seq, e);
    journal.seq = Math.max(0, ...parsed.entries.map((e) => e.seq));
    return journal;
  }

  get outcome(): RunOutcome | undefined {
    return this.ended?.outcome;
  }

  intend(entry: JournalIntent): JournalWrite {
    const refusal = this.refuseWrites?.();
    if (refusal) throw refusal;
    const seq = ++this.seq;
    const base: JournalEntry = {
      seq,
      status: 'intended',
      action: entry.action,
      type: entry.type,
      name: entry.name,
      region: this.region,
      at: this.now(),
    };
    if (entry.id !== undefined) base.id = entry.id;
    if (entry.undo !== undefined) base.undo = entry.undo;
    this.put(base);
    let settled = false;
    return {
      done: (result) => {
        if (settled) return;
        settled = true;
        const next: JournalEntry = { ...this.folded.get(seq)!, status: 'done', at: this.now() };
        if (result.id !== undefined) next.id = result.id;
        if (result.undo !== undefined) next.undo = result.undo;
        this.put(next);
      },
      failed: (error, undo) => {
        if (settled) return;
        settled = true;
        const next: JournalEntry = {
          ...this.folded.get(seq)!,
          status: 'failed',
          at: this.now(),
          error: errorText(error),
        };
        // A failed write leaves nothing to undo unless the caller says it may have (a timeout mid-write).
        if (undo !== undefined) next.undo = undo;
        else delete next.undo;
        this.put(next);
      },
    };
  }

  /** Records the rollback outcome of one entry. */
  mark(seq: number, status: 'undone' | 'undo-failed', error?: unknown): void {
    const current = this.folded.get(seq);
    if (!current) return;
    const next: JournalEntry = { ...current, status, at: this.now() };
    if (error !== undefined) next.error = errorText(error);
    else delete next.error;
    this.put(next);
  }

  end(outcome: RunOutcome, error?: unknown): void {
    const line: JournalEnd = { kind: 'end', outcome, at: this.now() };
    if (error !== undefined) line.error = errorText(error);
    this.ended = line;
    appendDurably(this.file, line);
  }

  /** Removes the journal of a run that wrote nothing and never could have (a dry run). */
  discard(): void {
    if (this.folded.size > 0) throw new Error(`journal ${this.file} records writes; it cannot be discarded`);
    fs.rmSync(this.file, { force: true });
  }

  /** In seq order: entries are folded in as they are numbered (open() adds the parsed ones sorted). */
  entries(): JournalEntry[] {
    return [...this.folded.values()].map((e) => ({ ...e }));
  }

  private put(entry: JournalEntry): void {
    appendDurably(this.file, { kind: 'entry', ...entry });
    this.folded.set(entry.seq, entry);
  }
}

/** Parses a journal's text; a torn last line (crash mid-append) is ignored. */
export function parseJournal(text: string): {
  header?: JournalHeader;
  entries: JournalEntry[];
  end?: JournalEnd;
} {
  let header: JournalHeader | undefined;
  let end: JournalEnd | undefined;
  const folded = new Map<number, JournalEntry>();
  for (const raw of text.split('\n')) {
    let line: JournalLine;
    try {
      line = JSON.parse(raw) as JournalLine;
    } catch {
      continue; // a blank or torn line
    }
    if (line.kind === 'header') header = line;
    else if (line.kind === 'end') end = line;
    else if (line.kind === 'entry') {
      const { kind: _kind, ...entry } = line;
      folded.set(entry.seq, entry);
    }
  }
  return { header, end, entries: [...folded.values()].sort((a, b) => a.seq - b.seq) };
}
