// Start-up (issue 15): bin/run.js serves @oclif/core from dist/oclif-core.js and the command modules
// from dist/bundle/commands.js (scripts/bundle-*.js), and falls back to node_modules and the tsc output
// when a bundle is missing. These checks read which modules a real process loaded (Module._cache at exit,
// through a --require hook), so a command path that silently went back to ~300 separate files, or
// --help that started loading command code, fails here. No timing is asserted. --help into a pipe is
// printed from dist/help.json (bin/run.js); test/cli/helpTexts.test.ts checks those texts are oclif's.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const COMMANDS_BUNDLE = path.join(ROOT, 'dist', 'bundle', 'commands.js');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-startup-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const HOOK = path.join(work, 'loaded-modules.js');
fs.writeFileSync(
  HOOK,
  // The modules' own file names: bin/run.js also files the core bundle under @oclif/core's path.
  `process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify([...new Set(Object.values(require('node:module')._cache).map((m) => m.filename))])));\n`,
);

let runs = 0;
/** Runs `node bin/run.js ARGS` of the tree at ROOT; returns its exit code, stdout and loaded module files. */
function run(
  root: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const out = path.join(work, `loaded-${++runs}.json`);
  const home = fs.mkdtempSync(path.join(work, 'home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', K3SCTL_HOME: home, LOADED_MODULES_FILE: out };
  for (const name of Object.keys(env))
    if (name.startsWith('K3SCTL_') && name !== 'K3SCTL_HOME') delete env[name];
  Object.assign(env, extraEnv);
  const r = spawnSync(process.execPath, ['--require', HOOK, path.join(root, 'bin', 'run.js'), ...args], {
    env,
    encoding: 'utf8',
  });
  const loaded = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as string[]) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

const fromPackage = (loaded: string[], pkg: string) =>
  loaded.filter((f) => f.split(path.sep).join('/').includes(`/node_modules/${pkg}/`));
const ourModules = (root: string, loaded: string[]) =>
  loaded.filter((f) => f.startsWith(path.join(root, 'dist') + path.sep));

describe('start-up: what a process loads', () => {
  beforeAll(() => {
    if (!fs.existsSync(COMMANDS_BUNDLE))
      throw new Error(`${COMMANDS_BUNDLE} is missing: run npm run build first`);
  });

  it('a sandbox command loads its code, the SDK included, from the two bundles only', () => {
    const r = run(ROOT, ['cluster', 'list', '--sandbox', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toBeDefined();
    expect(ourModules(ROOT, r.loaded).sort()).toEqual(
      [path.join(ROOT, 'dist', 'bundle', 'commands.js'), path.join(ROOT, 'dist', 'oclif-core.js')].sort(),
    );
    for (const pkg of ['@aws-sdk', '@smithy', 'zod', 'yaml', '@oclif/core'])
      expect(fromPackage(r.loaded, pkg)).toEqual([]);
  });

  it('--help and --version load no command code', () => {
    // OCLIF_COLUMNS makes oclif render the help (no pre-rendered text can be right for another width).
    for (const [args, env] of [
      [['cluster', 'create', '--help'], { OCLIF_COLUMNS: '100' }],
      [['--version'], {}],
    ] as const) {
      const r = run(ROOT, [...args], env);
      expect(r.status).toBe(0);
      expect(r.stdout).not.toBe('');
      expect(ourModules(ROOT, r.loaded)).toEqual([path.join(ROOT, 'dist', 'oclif-core.js')]);
      expect(fromPackage(r.loaded, '@aws-sdk')).toEqual([]);
    }
  });

  it('--help into a pipe is printed from dist/help.json, loading neither oclif nor any module of ours', () => {
    const r = run(ROOT, ['cluster', 'create', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('$ k3sctl cluster create');
    expect(ourModules(ROOT, r.loaded)).toEqual([]);
    expect(fromPackage(r.loaded, '@oclif/core')).toEqual([]);
  });

  it('without the bundles, the same command runs from node_modules and the tsc output', () => {
    // A copy of the built tree without dist/bundle/ and dist/oclif-core.js (packages through a link).
    const copy = path.join(work, 'tree');
    for (const entry of ['bin', 'dist', 'userdata', 'package.json', 'oclif.manifest.json'])
      fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    fs.rmSync(path.join(copy, 'dist', 'bundle'), { recursive: true });
    for (const f of ['oclif-core.js', 'oclif-core.js.cache']) fs.rmSync(path.join(copy, 'dist', f));

    const bundled = run(ROOT, ['cluster', 'create', 'demo', '--sandbox', '--yes', '--json']);
    const unbundled = run(copy, ['cluster', 'create', 'demo', '--sandbox', '--yes', '--json']);
    expect(bundled.status).toBe(0);
    expect(unbundled.status).toBe(0);
    const shape = (stdout: string) => {
      const doc = JSON.parse(stdout) as { changes: { action: string; type: string; name?: string }[] };
      return doc.changes.map((c) => `${c.action} ${c.type} ${c.name ?? ''}`);
    };
    expect(shape(unbundled.stdout)).toEqual(shape(bundled.stdout));
    expect(ourModules(copy, unbundled.loaded)).toContain(
      path.join(copy, 'dist', 'commands', 'cluster', 'create.js'),
    );
    expect(fromPackage(unbundled.loaded, '@aws-sdk').length).toBeGreaterThan(0);
  });
});
