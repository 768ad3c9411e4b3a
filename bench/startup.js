#!/usr/bin/env node
// bench/startup: median wall time of `k3sctl --version` and `k3sctl cluster --help` divided by the
// median of `node -e 0`, in the same run. Prints JSON lines. Needs `npm run build` first.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const runs = Number(process.env.BENCH_RUNS ?? 15);
const bin = path.join(__dirname, '..', 'bin', 'run.js');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(args) {
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= 2) samples.push(ms); // two warm-up runs fill the page cache
  }
  return median(samples);
}

const baseline = time(['-e', '0']);
for (const [name, args] of [
  ['version', [bin, '--version']],
  ['cluster --help', [bin, 'cluster', '--help']],
]) {
  const ms = time(args);
  console.log(JSON.stringify({ bench: 'startup', command: `k3sctl ${name}`, medianMs: +ms.toFixed(1), nodeMedianMs: +baseline.toFixed(1), ratio: +(ms / baseline).toFixed(2), target: 2.5, runs }));
}
