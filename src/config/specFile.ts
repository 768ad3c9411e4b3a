// The YAML file of a create command (`-f FILE`) and the naming of every input field. The file is
// parsed with the yaml Document API and a LineCounter, so each value keeps its line, and checked
// against the command's zod schema (strict: an unknown field is an error). Once flags are merged over
// the file, each field is named as the user gave it: the flag as typed (`--node-type`, an alias, or
// its environment variable), or `FILE:LINE field` for a value from the file (`cluster.yaml:12 nodeType`).
import * as fs from 'node:fs';
import type { ParsedNode } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../core/errors';

/** A field inside a file: its keys, then list indices or map keys. */
export type FieldPath = (string | number)[];

/**
 * How messages name an input field (`key`, dotted for nested fields such as `ingress.alb`), and
 * optionally one `item` of it (a list index or a map key): the flag, or `FILE:LINE field`.
 */
export type FieldNames = (key: string, item?: string | number) => string;

/** Names every field by its flag (`flagOf`), or by the key itself when it has none. */
export function flagNames(flagOf: Record<string, string | undefined>, overrides: Record<string, string> = {}): FieldNames {
  return (key) => overrides[key] ?? flagOf[key] ?? key;
}

export interface SpecFile<T> {
  /** The file name as given. */
  name: string;
  data: T;
  /** True when the file sets the field at `path`. */
  has(path: FieldPath): boolean;
  /** `FILE:LINE shown`: the line of the value at `path` (the line of its key, or of the list item). */
  at(path: FieldPath, shown?: string): string;
}

/** Reads `-f FILE`: a file that cannot be read is invalid input naming the flag. */
export function readSpecText(file: string, flag = '--file'): string {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new UserError(`${flag} ${file} is a directory, not a YAML file`, undefined, flag);
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new UserError(`${flag} ${file} cannot be read: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`, undefined, flag);
  }
}

/** `sans[0]`, `weights.alpha`, `ingress.zone`. */
export function showPath(path: FieldPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Parses `text` (YAML or JSON) against `schema`. Syntax errors, unknown fields and wrong types are
 * invalid input reported as `FILE:LINE field: problem` (every problem, the first one as the field).
 */
export function parseSpecFile<T>(
  schema: z.ZodType<T>,
  text: string,
  fileName: string,
  about: { kind: string; schemaFile: string; flag?: string },
): SpecFile<T> {
  const YAML = require('yaml') as typeof import('yaml');
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false });
  const flag = about.flag ?? '--file';
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    // Without prettyErrors the error carries only its offset (linePos is set by prettifying).
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new UserError(
      `${flag} ${fileName}:${line} is not valid YAML: ${e.message.split('\n')[0]}`,
      `see ${about.schemaFile}`,
      flag,
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${flag} ${fileName} is not a mapping of fields`, `see ${about.schemaFile}`, flag);
  }
  const lineOf = (path: FieldPath): number | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined;
    for (const segment of path) {
      if (YAML.isMap(node)) {
        const pair = node.items.find((p) => String(YAML.isScalar(p.key) ? p.key.value : p.key) === String(segment));
        if (!pair) break;
        // Every node of a parsed document has its range, an empty key or item too.
        offset = (pair.key as ParsedNode).range[0];
        node = pair.value;
      } else if (YAML.isSeq(node)) {
        const item = node.items[Number(segment)] as ParsedNode | undefined;
        if (!item) break;
        offset = item.range[0];
        node = item;
      } else break;
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const file: Omit<SpecFile<T>, 'data'> = {
    name: fileName,
    has: (path) => {
      let value: unknown = raw;
      for (const p of path) {
        if (value === null || typeof value !== 'object' || !(String(p) in (value as object))) return false;
        value = (value as Record<string, unknown>)[String(p)];
      }
      return true;
    },
    at: (path, shown = showPath(path)) => {
      const line = lineOf(path);
      return `${fileName}${line === undefined ? '' : `:${line}`} ${shown}`;
    },
  };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ...file, data: parsed.data };
  const problems: { field: string; text: string }[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = file.at([...(issue.path as FieldPath), key]);
        problems.push({ field: at, text: `${at}: unknown field` });
      }
    } else if (issue.path.length) {
      const at = file.at(issue.path as FieldPath);
      problems.push({ field: at, text: `${at}: ${issue.message}` });
    } else {
      problems.push({ field: flag, text: `${flag} ${fileName}: ${issue.message}` });
    }
  }
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  const unknown = parsed.error.issues.some((i) => i.code === 'unrecognized_keys');
  throw new UserError(
    problems.map((p) => p.text).join('; '),
    unknown && shape
      ? `the fields of a ${about.kind} file are ${Object.keys(shape).join(', ')} (see ${about.schemaFile})`
      : `see ${about.schemaFile}`,
    problems[0].field,
  );
}

/** The input of a create command once the flags are merged over its file, with the naming of its fields. */
export interface SpecInput<F> {
  input: F;
  field: FieldNames;
  /**
   * A UserError a lookup raised about a flag whose value came from the file, told as `FILE:LINE field`
   * (the workflows name fields by their flags); other errors unchanged.
   */
  relabel(error: unknown): unknown;
}

function valueAt(object: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], object);
}

function given(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

/**
 * Merges the flags over the file (a given flag wins; an empty list does not) and names each field as
 * the user gave it. When the file sets the field an argument gives (`name`) to another value, that is
 * invalid input naming both.
 */
export function mergeSpecInput<F extends object>(o: {
  file?: SpecFile<Partial<F>>;
  fromFlags: Partial<F>;
  /** The flag (`--node-type`) or argument (`NAME`) of each field; dotted keys for nested fields. */
  flagOf: Record<string, string | undefined>;
  /** Values of flags that `fromFlags` does not hold as such (nested fields: `{ ingress: { alb } }`), for naming only. */
  flagValues?: Record<string, unknown>;
  /** The flag as the user gave it: an alias, the short form or its environment variable. */
  asGiven?: (flag: string) => string;
  /** The field an argument gives, e.g. `name` for NAME. */
  argument?: keyof F & string;
}): SpecInput<F> {
  const { file, fromFlags, flagOf } = o;
  const asGiven = o.asGiven ?? ((flag: string) => flag);
  const flagGiven = (key: string) => given(valueAt(fromFlags, key)) || given(valueAt(o.flagValues, key));
  if (file && o.argument) {
    const arg = fromFlags[o.argument];
    const inFile = file.data[o.argument];
    if (given(arg) && inFile !== undefined && inFile !== arg) {
      const at = file.at([o.argument]);
      throw new UserError(
        `${flagOf[o.argument] ?? o.argument} '${String(arg)}' differs from ${at} '${String(inFile)}'`,
        `give the same ${o.argument} in both places, or leave one out`,
        at,
      );
    }
  }
  const merged = { ...(file?.data ?? {}) } as Record<string, unknown>;
  for (const [k, v] of Object.entries(fromFlags)) if (given(v)) merged[k] = v;
  const field: FieldNames = (key, item) => {
    const flag = flagOf[key];
    if (flagGiven(key)) return flag ? asGiven(flag) : key;
    const path = key.split('.');
    if (file?.has(path)) {
      const shown = typeof item === 'number' ? `${key}[${item}]` : key;
      return file.at(item === undefined ? path : [...path, item], shown);
    }
    return flag ?? key;
  };
  const relabel = (error: unknown): unknown => {
    if (!(error instanceof UserError) || !error.field || !file) return error;
    const key = Object.keys(flagOf).find((k) => flagOf[k] === error.field);
    if (!key || flagGiven(key) || !file.has(key.split('.'))) return error;
    const named = field(key);
    const message = error.message.includes(error.field)
      ? error.message.replace(error.field, named)
      : `${named}: ${error.message}`;
    const relabelled = new UserError(message, error.suggestion, named);
    for (const [k, v] of Object.entries(error)) if (!(k in relabelled)) (relabelled as unknown as Record<string, unknown>)[k] = v;
    return relabelled;
  };
  return { input: merged as F, field, relabel };
}
