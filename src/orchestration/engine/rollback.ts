// Rollback from the journal: undoes a run's writes newest first through the undo registry of
// src/resources (delete what it created, restore what it changed), for a failing run in-process and
// for a crashed run's journal later (`k3sctl runs rollback`). Also lists the runs on disk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { AwsClients } from '../../aws/clients';
import type { Clock } from '../../core/clock';
import { errorText, InternalError, UserError } from '../../core/errors';
import type { EventSink } from '../../core/events';
import { UndoIncompleteError, type ProviderRegistry } from '../../provider/provider';
import type { WorkflowDeps } from '../deps';
import { FileJournal, journalPath, parseJournal, runsDir } from './journal';
import type { JournalEntry } from '../../provider/types';
import { isStillInUseError, retryWhileNotReady } from '../../core/wait';

export interface RolledBackItem {
  type: string;
  name: string;
  id?: string;
}

export interface LeftoverItem extends RolledBackItem {
  error: string;
}

export interface RollbackResult {
  rolledBack: RolledBackItem[];
  leftovers: LeftoverItem[];
}

export interface UndoOptions {
  /** How long "still in use" / throttling failures of one undo are retried; default 10 minutes. */
  timeoutMs?: number;
}

export const DEFAULT_UNDO_TIMEOUT_MS = 10 * 60_000;

/** Entries rollback acts on: writes that happened (or may have) and carry an undo record, not yet undone. */
export function undoableEntries(entries: JournalEntry[]): JournalEntry[] {
  return entries
    .filter(
      (e) =>
        e.undo !== undefined &&
        (e.status === 'done' ||
          e.status === 'intended' ||
          e.status === 'failed' ||
          e.status === 'undo-failed'),
    )
    .sort((a, b) => b.seq - a.seq);
}

function item(e: JournalEntry): RolledBackItem {
  return e.id !== undefined ? { type: e.type, name: e.name, id: e.id } : { type: e.type, name: e.name };
}

function describeUndo(e: JournalEntry): string {
  const verb = e.undo?.action === 'restore' ? 'restore' : 'delete';
  return `${verb} ${e.type} ${e.name}${e.id ? ` (${e.id})` : ''}`;
}

/**
 * Undoes the journal's undoable entries newest first, recording `undone` / `undo-failed` for each.
 * "Still in use" failures (DependencyViolation, ResourceInUse, ScalingActivityInProgress, throttling)
 * are retried on the clock until the deadline; what cannot be undone is returned as a leftover.
 */
export async function undoJournal(
  journal: FileJournal,
  env: { clients: AwsClients; clock: Clock; events: EventSink; providers: ProviderRegistry },
  options: UndoOptions = {},
): Promise<RollbackResult> {
  const todo = undoableEntries(journal.entries());
  const result: RollbackResult = { rolledBack: [], leftovers: [] };
  if (todo.length === 0) return result;
  env.events.emit({ kind: 'rollback-start', entries: todo.length });
  for (const entry of todo) {
    const undo = entry.undo!;
    const title = describeUndo(entry);
    try {
      const handler = env.providers.undoHandler(undo.type);
      const fn = undo.action === 'restore' ? handler?.restore : handler?.delete;
      if (!handler || !fn)
        throw new InternalError(`no ${undo.action} handler is registered for ${undo.type}`);
      await retryWhileNotReady(
        { clock: env.clock, events: env.events },
        {
          what: title,
          timeoutMs: options.timeoutMs ?? DEFAULT_UNDO_TIMEOUT_MS,
          intervalMs: 5_000,
          retryable: isStillInUseError,
          key: `rollback:${entry.seq}`,
        },
        () => fn.call(handler, env.clients, undo.data, { clock: env.clock, events: env.events }),
      );
      journal.mark(entry.seq, 'undone');
      result.rolledBack.push(item(entry));
      env.events.emit({ kind: 'rollback-step', title, ok: true });
    } catch (error) {
      journal.mark(entry.seq, 'undo-failed', error);
      // What is actually left, by kind and id, when the undo knows; else the entry it could not undo.
      const left = error instanceof UndoIncompleteError && error.remaining.length ? error.remaining : [item(entry)];
      for (const l of left) result.leftovers.push({ ...l, error: errorText(error) });
      env.events.emit({ kind: 'rollback-step', title, ok: false, error: errorText(error) });
    }
  }
  return result;
}

function processAlive(pid: number | undefined, host: string | undefined): boolean {
  if (pid === undefined || (host !== undefined && host !== os.hostname())) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Undoes what run `runId` did (newest first) through the providers of `deps`. */
export async function rollbackRun(
  deps: WorkflowDeps,
  runId: string,
  options: UndoOptions & {
    /** Also roll back a run that succeeded or still looks alive. */ force?: boolean;
  } = {},
): Promise<{
  rolledBack: { type: string; name: string; id?: string }[];
  leftovers: { type: string; name: string; id?: string; error: string }[];
}> {
  const journal = FileJournal.open(deps.home, runId, () => deps.clock.now());
  if (!journal) {
    throw new UserError(
      `no run ${runId} under ${runsDir(deps.home)}`,
      'list the recorded runs with `k3sctl runs list`',
      'RUN_ID',
    );
  }
  const header = journal.header;
  if (header.region && header.region !== deps.region) {
    throw new UserError(
      `run ${runId} made its changes in ${header.region}, not ${deps.region}`,
      `run \`k3sctl runs rollback ${runId} --region ${header.region}\``,
      '--region',
    );
  }
  if (!options.force) {
    if (journal.outcome === 'succeeded') {
      throw new UserError(
        `run ${runId} (${header.title}) succeeded; rolling it back would undo a finished change`,
        'use the matching delete command, or --force to undo it anyway',
      );
    }
    if (
      journal.outcome === undefined &&
      header.pid !== process.pid &&
      processAlive(header.pid, header.host)
    ) {
      throw new UserError(
        `run ${runId} is still in progress (process ${header.pid})`,
        'wait for it to finish, or stop it first; --force overrides',
      );
    }
  }
  const result = await undoJournal(journal, deps, options);
  const remaining = undoableEntries(journal.entries()).length;
  journal.end(remaining > 0 ? 'rollback-incomplete' : 'rolled-back');
  return result;
}

export type RunStatus =
  'running' | 'crashed' | 'succeeded' | 'failed' | 'rolled-back' | 'rollback-incomplete';

export interface RunSummary {
  runId: string;
  title: string;
  status: string;
  startedAt: string;
  region: string;
  /** `aws`, `sandbox` or `endpoint:URL` (journals written before this field: undefined). */
  target?: string;
  /** Writes the run made (done entries, undone ones included). */
  writes: number;
  /** Entries a `runs rollback` would still undo. */
  pendingUndo: number;
}

/** An entry a rollback would undo: delete what the run created, or restore what it changed. */
export type UndoItem = { action: 'delete' | 'restore'; type: string; name: string; id?: string };

/** A recorded run and what a rollback of it would undo (newest first). */
export type RecordedRun = RunSummary & { undo: UndoItem[] };

/** One recorded run and what a rollback of it would undo, for previews (its journal only); undefined when unknown. */
export function describeRun(home: string, runId: string): RecordedRun | undefined {
  const text = readJournal(journalPath(home, runId));
  if (text === undefined) return undefined;
  const { summary, entries } = summarizeJournal(runId, text);
  const undo = undoableEntries(entries).map((e) => ({ action: e.undo!.action, ...item(e) }));
  return { ...summary, undo };
}

/** A journal's text, or undefined when it cannot be read (none by that id). */
function readJournal(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What `runs list` shows of one journal, and its entries. */
function summarizeJournal(runId: string, text: string): { summary: RunSummary; entries: JournalEntry[] } {
  const { header, entries, end } = parseJournal(text);
  let status: RunStatus;
  if (end) status = end.outcome;
  else status = header?.pid === process.pid || processAlive(header?.pid, header?.host) ? 'running' : 'crashed';
  const summary: RunSummary = {
    runId,
    title: header?.title ?? '(unknown)',
    status,
    startedAt: header?.startedAt ?? '',
    region: header?.region ?? '',
    target: header?.target,
    writes: entries.filter((e) => e.status !== 'intended' && e.status !== 'failed').length,
    pendingUndo: end?.outcome === 'succeeded' ? 0 : undoableEntries(entries).length,
  };
  return { summary, entries };
}

/** Runs recorded under $K3SCTL_HOME/runs/, newest first, with their status. */
export function listRuns(home: string): RunSummary[] {
  const dir = runsDir(home);
  if (!fs.existsSync(dir)) return [];
  const runs: RunSummary[] = [];
  for (const file of fs.readdirSync(dir)) {
    if (!file.endsWith('.jsonl')) continue;
    const text = readJournal(`${dir}/${file}`);
    if (text !== undefined) runs.push(summarizeJournal(file.slice(0, -'.jsonl'.length), text).summary);
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
}
