#!/usr/bin/env node
// `npm run build`: a clean build of dist/ (no stale modules of deleted sources) without a moment in
// which dist/ is missing or half-written, since tests and other shells may be running bin/run.js while
// it builds. tsc compiles into dist.tmp-PID; the old dist/ is renamed aside and the new one renamed
// into place (two renames, microseconds apart), then oclif.manifest.json is regenerated and replaced
// atomically (scripts/manifest.js), and the old tree is removed. Start-up time: @oclif/core is bundled
// into dist/oclif-core.js (scripts/bundle-core.js) and the commands, with our modules and the AWS SDK,
// into dist/bundle/commands.js (scripts/bundle-commands.js) before the swap; their V8 code caches are
// written after it by runs of the CLI (writeCodeCache, bin/run.js).
const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const TMP = path.join(ROOT, `dist.tmp-${process.pid}`);
const OLD = path.join(ROOT, `dist.old-${process.pid}`);

function run(command, args) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    fs.rmSync(TMP, { recursive: true, force: true });
    process.exit(r.status ?? 1);
  }
}

/** Leftovers of builds that were killed (their process is gone). */
function removeStaleBuildDirs() {
  for (const name of fs.readdirSync(ROOT)) {
    const m = /^dist\.(tmp|old)-(\d+)$/.exec(name);
    if (!m || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    fs.rmSync(path.join(ROOT, name), { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * dist/oclif-core.js.cache and dist/bundle/commands.js.cache: compiled by running the CLI (bin/run.js
 * writes the cache of each bundle a run loaded). Each run adds the functions it compiled to the cache
 * the previous one wrote: the help path first, then sandbox commands (in a temporary K3SCTL_HOME),
 * which compile the command path down to the SDK clients' serializers.
 */
function writeCodeCache() {
  for (const file of ['oclif-core.js.cache', path.join('bundle', 'commands.js.cache')])
    fs.rmSync(path.join(DIST, file), { force: true });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-build-'));
  // The caller's K3SCTL_* settings (faults, behaviour, ...) have no place in these runs.
  const env = { ...envWithout(/^K3SCTL_/), CI: 'true', K3SCTL_HOME: home, K3SCTL_WRITE_CODE_CACHE: '1' };
  try {
    for (const args of [
      ['--version'],
      ['cluster', '--help'],
      ['cluster', 'create', 'demo', '--sandbox', '--yes', '--json'],
      ['cluster', 'list', '--sandbox'],
      ['cluster', 'describe', 'demo', '--sandbox', '--json'],
      ['cluster', 'delete', 'demo', '--sandbox', '--yes', '--json'],
    ]) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...args], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      if (r.error) throw r.error;
      if (r.status !== 0) process.exit(r.status ?? 1);
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * dist/help.json: the help text of every command and topic and of `k3sctl --help`, as oclif renders it
 * for a stdout that is not a terminal (80 columns, no colour). bin/run.js prints it for exactly
 * `k3sctl WORDS --help` when nothing could make oclif render it differently (stdout not a terminal, no
 * OCLIF_COLUMNS, no FORCE_COLOR), without loading oclif: issue 15's start-up figure. The texts come from
 * oclif itself, rendered here by the same bin/run.js; test/cli/helpTexts.test.ts compares every entry
 * with a live rendering.
 */
async function writeHelpTexts() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8'));
  const ids = Object.keys(manifest.commands).map((id) => id.split(':'));
  const topics = new Set(ids.flatMap((words) => words.slice(0, -1).map((_, i) => words.slice(0, i + 1).join(' '))));
  const keys = ['', ...topics, ...ids.map((words) => words.join(' '))];
  const env = envWithout(/^(K3SCTL_|OCLIF_|FORCE_COLOR$|NO_COLOR$)/);
  const render = (key) =>
    new Promise((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...key.split(' ').filter(Boolean), '--help'], { cwd: ROOT, env, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error || stderr) {
          console.error(`build: k3sctl ${key} --help failed: ${error?.message ?? ''} ${stderr}`);
          process.exit(1);
        }
        resolve([key, stdout]);
      });
    });
  // One process per text, as many at a time as there are cores.
  const queue = [...keys];
  const texts = {};
  const worker = async () => {
    while (queue.length) {
      const [key, text] = await render(queue.shift());
      texts[key] = text;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, os.availableParallelism?.() ?? os.cpus().length) }, worker));
  const file = path.join(DIST, 'help.json');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ texts: Object.fromEntries(keys.map((k) => [k, texts[k]])) }));
  fs.renameSync(tmp, file);
}

/** process.env without the variables whose names match `re`: the caller's settings have no place in the build's runs. */
function envWithout(re) {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !re.test(name)));
}

removeStaleBuildDirs();
const tsc = require.resolve('typescript/bin/tsc');
run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', TMP]);
run(process.execPath, [path.join(__dirname, 'bundle-core.js'), path.join(TMP, 'oclif-core.js')]);
run(process.execPath, [path.join(__dirname, 'bundle-commands.js'), TMP]);
let hadDist = true;
try {
  fs.renameSync(DIST, OLD);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
  hadDist = false;
}
try {
  fs.renameSync(TMP, DIST);
} catch (error) {
  if (hadDist) fs.renameSync(OLD, DIST);
  fs.rmSync(TMP, { recursive: true, force: true });
  throw error;
}
run(process.execPath, [path.join(__dirname, 'manifest.js')]);
writeCodeCache();
writeHelpTexts().then(() => fs.rmSync(OLD, { recursive: true, force: true }));
