// Merging k3sctl's entries into a user's kubeconfig file, and writing kubeconfig files safely.
// The file is edited through the `yaml` Document API so that everything that is not ours keeps its
// comments, order, quoting and styles; our own earlier entries (same names) are replaced in place.
// Writes are atomic (temp file in the same directory, then rename) with mode 0600.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Document, isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { KubeconfigError } from './errors';
import type { KubeconfigEntries } from './rewrite';

/** The file kubectl writes new entries to: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigTargetPath(
  kubeconfigEnv: string | undefined,
  homedir: string,
  delimiter = path.delimiter,
): string {
  const first = (kubeconfigEnv ?? '').split(delimiter).find((p) => p.trim() !== '');
  return first ? path.resolve(first) : path.join(homedir, '.kube', 'config');
}

const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

/**
 * Returns `existing` (the text of a kubeconfig, or undefined/empty for a new file) with `entries`
 * added or replacing same-named ones, and current-context set when `setCurrent`.
 */
export function mergeKubeconfig(
  existing: string | undefined,
  entries: KubeconfigEntries,
  options: { setCurrent: boolean; file: string },
): string {
  const doc = existing && existing.trim() ? parseExisting(existing, options.file) : newDocument();
  const root = doc.contents as YAMLMap;
  for (const [list, kind] of LISTS) {
    const entry = entries[kind];
    const current: unknown = root.get(list, true);
    let seq: YAMLSeq;
    if (isSeq(current)) seq = current;
    else {
      if (current !== undefined && current !== null && !isNullScalar(current)) {
        throw existingInvalid(options.file, `its ${list} is not a list`);
      }
      seq = doc.createNode([]) as YAMLSeq;
      root.set(list, seq);
    }
    const items = seq.items;
    const node = doc.createNode(kubectlOrder(entry));
    const index = items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
    if (index >= 0) {
      const old = items[index] as YAMLMap;
      node.commentBefore = old.commentBefore;
      node.spaceBefore = old.spaceBefore;
      items[index] = node;
      // A hand-edited file could hold the same name twice; kubectl would use the first, so drop the rest.
      for (let i = items.length - 1; i > index; i--) {
        const item = items[i];
        if (isMap(item) && item.get('name') === entry.name) items.splice(i, 1);
      }
    } else {
      items.push(node);
    }
  }
  if (options.setCurrent) root.set('current-context', entries.context.name);
  else if (!root.has('current-context')) root.set('current-context', '');
  return doc.toString({
    lineWidth: 0,
    indentSeq: usesIndentedSequences(existing),
    flowCollectionPadding: usesPaddedFlow(existing),
  });
}

/** Keys in the order kubectl writes them (alphabetical), so our entries look like kubectl's own. */
function kubectlOrder(entry: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).sort(([a], [b]) => a.localeCompare(b)));
}

/** `{ a: 1 }` or `{a: 1}`: keep the spacing of flow collections the file already uses. */
function usesPaddedFlow(text: string | undefined): boolean {
  if (!text) return false;
  return /:[ \t]*[{[] [^\s}\]]/.test(text) && !/:[ \t]*[{[][^\s}\]]/.test(text);
}

function isNullScalar(node: unknown): boolean {
  return (
    typeof node === 'object' &&
    node !== null &&
    'value' in node &&
    (node as { value: unknown }).value === null
  );
}

function newDocument(): Document {
  return new Document({
    apiVersion: 'v1',
    clusters: [],
    contexts: [],
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: [],
  });
}

function parseExisting(text: string, file: string, field?: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw existingInvalid(file, `it is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`, field);
  if (doc.contents === null) return newDocument();
  if (!isMap(doc.contents)) throw existingInvalid(file, 'it is not a YAML mapping', field);
  const kind = doc.get('kind');
  if (kind !== undefined && kind !== null && kind !== 'Config')
    throw existingInvalid(file, `its kind is ${String(kind)}, not Config`, field);
  return doc;
}

function existingInvalid(file: string, why: string, field?: string): KubeconfigError {
  return new KubeconfigError(
    'existing-file-invalid',
    `${field ? `${field} ` : ''}cannot merge into ${file}: ${why}; it was left unchanged`,
    'fix the file, or use --write PATH to write a separate kubeconfig, or --print',
    undefined,
    field,
  );
}

/**
 * The local preconditions of writing `file` (checked before any AWS call): when it exists, a regular
 * file we may read and write and, to merge into, a kubeconfig we can parse; otherwise its nearest
 * existing ancestor is a directory we may create it in. `field` names the input that chose the file.
 */
export function checkKubeconfigTarget(file: string, mode: 'merge' | 'write', field?: string): void {
  const named = field ? `${field} ${file}` : file;
  const fail = (why: string) =>
    new KubeconfigError('existing-file-invalid', `${named}: ${why}`, 'give a writable path, or use --print', undefined, field);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw fail('a parent of it is a file, not a directory');
    if (code !== 'ENOENT') throw fail(`cannot be read (${code})`);
  }
  if (stat) {
    if (stat.isDirectory()) throw fail('is a directory, not a file');
    try {
      fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
    } catch (error) {
      throw fail(`cannot be written (${(error as NodeJS.ErrnoException).code})`);
    }
    if (mode === 'merge') {
      const text = fs.readFileSync(file, 'utf8');
      if (text.trim()) {
        const doc = parseExisting(text, file, field);
        for (const [list] of LISTS) {
          const current: unknown = (doc.contents as YAMLMap).get(list, true);
          if (current !== undefined && current !== null && !isSeq(current) && !isNullScalar(current))
            throw existingInvalid(file, `its ${list} is not a list`, field);
        }
      }
    }
    return;
  }
  // A new file: its directory is created (mkdir -p), so the nearest existing ancestor must be a writable directory.
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    let dirStat: fs.Stats | undefined;
    try {
      dirStat = fs.statSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw fail('a parent of it is a file, not a directory');
      if (code !== 'ENOENT') throw fail(`${dir} cannot be read (${code})`);
    }
    if (dirStat) {
      if (!dirStat.isDirectory()) throw fail(`${dir} is a file, not a directory`);
      try {
        fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
      } catch {
        throw fail(`cannot be created: directory ${dir} is not writable`);
      }
      return;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** kubectl writes `clusters:\n- ...`; keep whichever style the file already uses. */
function usesIndentedSequences(text: string | undefined): boolean {
  if (!text) return false;
  const m = /^(?:clusters|users|contexts):[ \t]*\r?\n([ \t]*)- /m.exec(text);
  return m ? m[1].length > 0 : false;
}

/** Reads a kubeconfig file, or undefined when it does not exist. */
export function readKubeconfigFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes `content` to `file` atomically with mode 0600: a temp file in the same directory, fsync,
 * rename. A symlinked file is written through to its target so the link survives.
 */
export function writeFileAtomic0600(file: string, content: string): string {
  let target = path.resolve(file);
  try {
    target = fs.realpathSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.k3sctl-${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fchmodSync(fd, 0o600);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  return target;
}
