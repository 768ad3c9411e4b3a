// Runs the bats suites of the instance-side scripts (stubbed aws, curl, k3s, kubectl, systemctl;
// moto.bats: the real AWS CLI v2 against moto) and reports every bats test as its own jest test. A
// bats test that skips (moto.bats without moto or /usr/bin/aws, outside CI) passes here and its
// reason is printed once.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const BATS_DIR = path.join(__dirname, 'bats');
const files = readdirSync(BATS_DIR)
  .filter((f) => f.endsWith('.bats'))
  .sort();
const hasBats = spawnSync('bats', ['--version']).status === 0;

/** moto.bats takes about 80 s on a loaded 2-core machine (each real AWS CLI call costs ~0.5 s). */
const BATS_TIMEOUT_MS = 600_000;

interface TapResult {
  ok: boolean;
  detail: string;
}

function testNames(file: string): string[] {
  const src = readFileSync(path.join(BATS_DIR, file), 'utf8');
  return [...src.matchAll(/^@test\s+"((?:[^"\\]|\\.)*)"\s*\{/gm)].map((m) => m[1]);
}

function runBats(file: string): { results: Map<number, TapResult>; raw: string } {
  const r = spawnSync('bats', ['--tap', path.join(BATS_DIR, file)], { encoding: 'utf8', timeout: BATS_TIMEOUT_MS });
  const raw = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const results = new Map<number, TapResult>();
  let current: TapResult | undefined;
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(ok|not ok) (\d+) /.exec(line);
    if (m) {
      current = { ok: m[1] === 'ok', detail: line };
      results.set(Number(m[2]), current);
    } else if (current && line.startsWith('#')) {
      current.detail += `\n${line}`;
    }
  }
  return { results, raw };
}

if (!hasBats) {
  test.skip('bats is not installed (apt-get install bats; .ci/run installs it): instance-side script tests skipped', () =>
    undefined);
} else {
  for (const file of files) {
    describe(`bats ${file}`, () => {
      const names = testNames(file);
      let run: ReturnType<typeof runBats>;
      beforeAll(() => {
        run = runBats(file);
        const skipped = [...run.results.values()].filter((r) => / # skip\b/.test(r.detail.split('\n')[0]));
        if (skipped.length > 0) process.stderr.write(`bats ${file}: ${skipped.length} skipped: ${skipped[0].detail.split('\n')[0]}\n`);
      }, BATS_TIMEOUT_MS + 20_000);

      test('runs every test it declares', () => {
        expect({
          file,
          ran: run.results.size,
          raw: run.results.size === names.length ? '' : run.raw,
        }).toEqual({
          file,
          ran: names.length,
          raw: '',
        });
      });

      names.forEach((name, i) => {
        test(name, () => {
          const result = run.results.get(i + 1);
          if (!result?.ok)
            throw new Error(result ? result.detail : `no TAP result for test ${i + 1}\n${run.raw}`);
        });
      });
    });
  }
}
