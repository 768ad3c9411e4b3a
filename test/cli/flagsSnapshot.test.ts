// The committed snapshot of every command's flags and arguments (test/cli/flags.snapshot.json),
// compared with oclif.manifest.json as built: a renamed or removed flag, a lost environment fallback,
// a changed default or a newly required input is a breaking change for scripts and CI, so it must be
// a deliberate, reviewed update of the snapshot. Regenerate with K3SCTL_UPDATE_SNAPSHOT=1.
import * as fs from 'node:fs';

const { flagsSnapshot, readManifest, render, SNAPSHOT } = require('../../scripts/flagsSnapshot.js') as {
  flagsSnapshot(manifest: unknown): Record<string, unknown>;
  readManifest(): unknown;
  render(snapshot: unknown): string;
  SNAPSHOT: string;
};

const REGENERATE = 'npm run build && K3SCTL_UPDATE_SNAPSHOT=1 npx jest test/cli/flagsSnapshot.test.ts';

/** Human-readable differences: `+ cluster create --foo`, `- cluster create --bar`, `~ cluster create --baz env: A -> B`. */
function differences(
  expected: Record<string, unknown>,
  actual: Record<string, unknown>,
  prefix = '',
): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const where = prefix ? `${prefix} ${key}` : key;
    const e = expected[key];
    const a = actual[key];
    if (e === undefined) out.push(`+ ${where}: ${JSON.stringify(a)}`);
    else if (a === undefined) out.push(`- ${where} (was ${JSON.stringify(e)})`);
    else if (isObject(e) && isObject(a)) out.push(...differences(e, a, where));
    else if (JSON.stringify(e) !== JSON.stringify(a))
      out.push(`~ ${where}: ${JSON.stringify(e)} -> ${JSON.stringify(a)}`);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

describe('flags snapshot', () => {
  it('every command keeps its flags and arguments (test/cli/flags.snapshot.json)', () => {
    const actual = flagsSnapshot(readManifest());
    if (process.env.K3SCTL_UPDATE_SNAPSHOT === '1') {
      fs.writeFileSync(SNAPSHOT, render(actual));
      return;
    }
    if (!fs.existsSync(SNAPSHOT))
      throw new Error(`no snapshot at ${SNAPSHOT}; create it with: ${REGENERATE}`);
    const expected = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as Record<string, unknown>;
    const diff = differences(expected, actual);
    if (diff.length) {
      throw new Error(
        `the command-line surface changed (${diff.length} difference(s)); a removed or renamed flag, a lost env ` +
          `fallback or a new required input breaks scripts. If the change is intended, regenerate the snapshot with:\n  ${REGENERATE}\n\n` +
          diff.join('\n'),
      );
    }
  });

  it('the snapshot is generated from the manifest and covers every command', () => {
    const manifest = readManifest() as { commands: Record<string, unknown> };
    const snapshot = flagsSnapshot(manifest);
    expect(Object.keys(snapshot).sort()).toEqual(
      Object.keys(manifest.commands)
        .map((id) => id.replace(/:/g, ' '))
        .sort(),
    );
    for (const entry of Object.values(snapshot) as { flags: Record<string, { type: string }> }[]) {
      for (const flag of Object.values(entry.flags)) expect(['boolean', 'option']).toContain(flag.type);
    }
  });
});
