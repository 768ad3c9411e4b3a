// The input of a create command: `-f FILE` (parsed by the command's parser, which keeps the line of
// every field) with the flags over it, and the naming of every field as the user gave it (see
// config/specFile.ts). A `region` in the file is checked here and handed back to stand for --region.
import type { SpecFile, SpecInput } from '../config/specFile';

/** Reads `-f FILE`; a file that cannot be read is a UserError naming the flag. */
function readSpecFile(file: string | undefined, flag = '--file'): string | undefined {
  if (!file) return undefined;
  const { readSpecText } = require('../config/specFile') as typeof import('../config/specFile');
  return readSpecText(file, flag);
}

/** What a create command's specInput() merges: its file (parsed by `parse`) under its flags. */
export interface SpecInputOptions<F> {
  parse: (text: string, fileName: string, flag: string) => SpecFile<Partial<F>>;
  fromFlags: Partial<F>;
  /** The flag (or argument) of each field; see config/specFile.ts mergeSpecInput(). */
  flagOf: Record<string, string | undefined>;
  flagValues?: Record<string, unknown>;
  argument?: keyof F & string;
}

/** The merged input, and the file's `region` (with its place in the file) when it gave one. */
export interface MergedSpecInput<F> {
  spec: SpecInput<F>;
  fileRegion?: { region: string; field: string };
}

/**
 * Merges `-f FILE` (`fileName`, typed as `fileFlag`) under the flags: a given flag wins; an empty list
 * does not. The file's region is checked even when --region (or AWS_REGION) overrides it: all local
 * input is.
 */
export async function mergeSpecFileAndFlags<F extends object>(
  o: SpecInputOptions<F>,
  fileName: string | undefined,
  fileFlag: string,
  asGiven: (flag: string) => string,
): Promise<MergedSpecInput<F>> {
  const [{ mergeSpecInput }, { validateRegion }] = await Promise.all([import('../config/specFile'), import('../config/formats')]);
  const text = readSpecFile(fileName, fileFlag);
  const file = text !== undefined ? o.parse(text, fileName!, fileFlag) : undefined;
  const spec = mergeSpecInput<F>({ ...o, file, asGiven });
  const fileRegion = (file?.data as { region?: unknown } | undefined)?.region;
  if (typeof fileRegion === 'string') validateRegion(fileRegion, file!.at(['region']));
  return { spec, ...(fileRegion ? { fileRegion: { region: String(fileRegion), field: file!.at(['region']) } } : {}) };
}
