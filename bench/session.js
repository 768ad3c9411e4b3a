#!/usr/bin/env node
// bench/session: the real wall time of each step of a user's session with the built CLI against the
// sandbox (one K3SCTL_HOME, each step a fresh `node bin/run.js ... --sandbox --json --yes`, CI=true, as
// test/cli/scenario.test.ts runs them), and the slowest step against 20 s. A step slower than that is a
// performance bug of the CLI: the sandbox's virtual clock makes every AWS wait instant, so what is left
// is our own work. The acceptance scenarios used to assert it; no test asserts a time (our rule), so it
// is measured here. Prints JSON lines. Needs `npm run build` first.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bin = path.join(__dirname, '..', 'bin', 'run.js');
const SLOW_STEP_MS = 20_000;

const steps = [
  ['cluster', 'create', 'demo', '--control-planes', '3', '--nodes', '3'],
  ['cluster', 'create', 'demo', '--control-planes', '3', '--nodes', '3'],
  ['cluster', 'describe', 'demo'],
  ['nodegroup', 'add', 'demo', 'extra', '--nodes', '2'],
  ['nodegroup', 'scale', 'demo', 'extra', '--nodes', '4'],
  ['recycle', 'demo', '--group', 'extra', '--force'],
  ['upgrade', 'demo', '--k3s-version', 'v1.32.2+k3s1'],
  ['nodegroup', 'delete', 'demo', 'extra'],
  ['cluster', 'delete', 'demo'],
];

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-bench-session-'));
const timings = [];
try {
  for (const args of steps) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...args, '--sandbox', '--json', '--yes'], {
      env: { ...process.env, K3SCTL_HOME: home, CI: 'true' },
      encoding: 'utf8',
    });
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    if (r.status !== 0) throw new Error(`k3sctl ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    timings.push({ step: args.join(' '), ms });
    console.log(JSON.stringify({ bench: 'session', step: args.join(' '), realMs: ms }));
  }
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}
const slowest = timings.reduce((a, b) => (b.ms > a.ms ? b : a));
console.log(
  JSON.stringify({
    bench: 'session',
    steps: timings.length,
    totalRealMs: timings.reduce((n, t) => n + t.ms, 0),
    slowest,
    target: `every step < ${SLOW_STEP_MS} ms`,
    met: slowest.ms < SLOW_STEP_MS,
  }),
);
