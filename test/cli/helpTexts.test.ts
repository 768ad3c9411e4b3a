// The pre-rendered help texts (dist/help.json, written by scripts/build.js, printed by bin/run.js for
// `k3sctl WORDS --help` into a pipe): every entry is byte for byte what oclif renders for the same words
// (OCLIF_COLUMNS=80 makes bin/run.js hand the call to oclif, at the width a pipe gets), the texts cover
// every command and topic, and whatever could make oclif's output differ goes to oclif.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';

const HELP = path.resolve(__dirname, '../../dist/help.json');
const MANIFEST = path.resolve(__dirname, '../../oclif.manifest.json');

function helpTexts(): Record<string, string> {
  return (JSON.parse(fs.readFileSync(HELP, 'utf8')) as { texts: Record<string, string> }).texts;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

describe('pre-rendered help', () => {
  it('has the root, every topic and every command of the manifest', () => {
    const ids = Object.keys((JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { commands: object }).commands);
    const keys = Object.keys(helpTexts());
    for (const id of ids) expect(keys).toContain(id.split(':').join(' '));
    for (const topic of ['cluster', 'nodegroup', 'endpoint', 'runs', 'sandbox']) expect(keys).toContain(topic);
    expect(keys).toContain('');
  });

  it("prints exactly oclif's rendering for each entry", async () => {
    const texts = helpTexts();
    const keys = Object.keys(texts);
    const results = await inBatches(keys, 4, async (key) => {
      const words = key.split(' ').filter(Boolean);
      const [served, rendered] = await Promise.all([
        runCli([...words, '--help']),
        runCli([...words, '--help'], { env: { OCLIF_COLUMNS: '80' } }),
      ]);
      return { key, served, rendered };
    });
    for (const { key, served, rendered } of results) {
      expect({ key, code: served.code, stdout: served.stdout, stderr: served.stderr }).toEqual({
        key,
        code: 0,
        stdout: texts[key],
        stderr: '',
      });
      expect({ key, stdout: rendered.stdout, code: rendered.code }).toEqual({ key, stdout: texts[key], code: 0 });
    }
  });

  it('leaves other widths, an argument before --help and unknown words to oclif', async () => {
    const text = helpTexts()['cluster create'];
    const wide = await runCli(['cluster', 'create', '--help'], { env: { OCLIF_COLUMNS: '160' } });
    expect(wide.code).toBe(0);
    expect(wide.stdout).not.toBe(text);
    expect(wide.stdout).toContain('$ k3sctl cluster create');
    const withArgument = await runCli(['cluster', 'create', 'demo', '--help']);
    expect(withArgument.code).toBe(0);
    expect(withArgument.stdout).toContain('$ k3sctl cluster create');
    const unknown = await runCli(['no-such-command', '--help']);
    expect(unknown.code).not.toBe(0);
  });
});
