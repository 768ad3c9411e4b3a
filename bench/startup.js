#!/usr/bin/env node
// bench/startup: median wall time of `node -e 0`, `k3sctl --version`, `k3sctl cluster create --help`
// and two sandbox commands (`cluster list --sandbox`, and `cluster create demo --sandbox --yes --json`
// in a fresh K3SCTL_HOME each time, the kind of process test/cli spawns), each divided by the median
// of `node -e 0`. All are measured in one run, interleaved (one of each per round), so machine load
// weighs on both sides of every ratio alike. Prints JSON lines. Needs `npm run build` first.
// The target (issue 15) bounds `cluster create --help`: it is a goal, not derived from anything. Into a
// pipe (as here) the help is printed from dist/help.json; the OCLIF_COLUMNS case is oclif rendering it.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const runs = Number(process.env.BENCH_RUNS ?? 15);
const bin = path.join(__dirname, '..', 'bin', 'run.js');
const HELP_TARGET = 1.6;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-bench-startup-'));
const freshHome = () => fs.mkdtempSync(path.join(home, 'create-'));
const cases = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'k3sctl --version', args: [bin, '--version'] },
  { name: 'k3sctl cluster create --help', args: [bin, 'cluster', 'create', '--help'], target: HELP_TARGET },
  // The same help rendered by oclif, as on a terminal (OCLIF_COLUMNS=80 bypasses dist/help.json).
  {
    name: 'k3sctl cluster create --help (rendered by oclif, OCLIF_COLUMNS=80)',
    args: [bin, 'cluster', 'create', '--help'],
    env: { OCLIF_COLUMNS: '80' },
  },
  { name: 'k3sctl cluster list --sandbox', args: [bin, 'cluster', 'list', '--sandbox'], home: () => home },
  {
    name: 'k3sctl cluster create demo --sandbox --yes --json (fresh K3SCTL_HOME)',
    args: [bin, 'cluster', 'create', 'demo', '--sandbox', '--yes', '--json'],
    home: freshHome,
  },
];

function time({ args, home: homeOf, env: extraEnv }) {
  const env = { ...process.env, CI: 'true', ...extraEnv };
  delete env.K3SCTL_SANDBOX;
  if (homeOf) env.K3SCTL_HOME = homeOf();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

try {
  const samples = new Map(cases.map((c) => [c.name, []]));
  // Two warm-up rounds fill the page cache; then one run of each case per round.
  for (let round = 0; round < runs + 2; round++) {
    for (const c of cases) {
      const ms = time(c);
      if (round >= 2) samples.get(c.name).push(ms);
    }
  }
  const baseline = median(samples.get('node -e 0'));
  for (const c of cases.slice(1)) {
    const ms = median(samples.get(c.name));
    console.log(
      JSON.stringify({
        bench: 'startup',
        command: c.name,
        medianMs: +ms.toFixed(1),
        nodeMedianMs: +baseline.toFixed(1),
        ratio: +(ms / baseline).toFixed(2),
        target: c.target ?? null,
        runs,
      }),
    );
  }
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}
