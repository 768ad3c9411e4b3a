// The contract for scripts and CI (README.md, Scripting and CI), checked on every command of the built CLI.
// Commands are enumerated from oclif.manifest.json, so a new command is covered without editing this
// file: its --help must not load the AWS SDK, invalid input must exit 2 with one JSON document, a
// read command must not write, a mutating one must have --dry-run, and --dry-run must write nothing.
// Then the cross-cutting rules: SIGINT rolls back and exits 130, --endpoint-url reaches the SDK, no
// prompt without a terminal, error documents (exit 1 and 3) and the environment fallbacks.
// What is about the process itself runs the built CLI (bin/run.js): --help of every command (which
// modules the process loads), SIGINT/SIGTERM, and a pseudo-terminal; the rest runs the same commands
// in process through oclif (test/helpers/inProcessCli.ts), one at a time.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { BIN, runCli, tempHome, type CliResult } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const ROOT = path.resolve(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const PRELOAD = path.resolve(__dirname, '../helpers/reportLoadedModules.js');

interface ManifestFlag {
  type: 'boolean' | 'option';
  env?: string;
  required?: boolean;
}
interface ManifestCommand {
  id: string;
  args: Record<string, { required?: boolean }>;
  flags: Record<string, ManifestFlag>;
}

function readManifest(): Record<string, ManifestCommand> {
  const file = path.join(ROOT, 'oclif.manifest.json');
  if (!fs.existsSync(file)) throw new Error('oclif.manifest.json is missing: run npm run build first');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { commands: Record<string, ManifestCommand> })
    .commands;
}

const COMMANDS = readManifest();
const IDS = Object.keys(COMMANDS).sort();

/** Read-only by name (and `doctor`, a preflight that only reads): they must never write. */
const isRead = (id: string) => /(^|:)(list|describe|status)$/.test(id) || id === 'doctor';
/** Commands that change only local files (the kubeconfig, the sandbox's own state), not AWS. */
const LOCAL_ONLY = new Set(['kubeconfig', 'sandbox:reset']);
/** Everything else changes AWS: it must offer --dry-run (and --yes, a global flag). */
const MUTATING = IDS.filter((id) => !isRead(id) && !LOCAL_ONLY.has(id));
const READ = IDS.filter(isRead);

/** Commands that destroy or replace running things: without a terminal they need --yes (or --dry-run). */
const NEEDS_YES = [
  'cluster:delete',
  'nodegroup:delete',
  'recycle',
  'upgrade',
  'runs:rollback',
  'alb:delete',
  'endpoint:delete',
  'certificate:delete',
  'endpoint:weight',
];

const GLOBAL_FLAG_ENV: Record<string, string> = {
  region: 'AWS_REGION',
  profile: 'AWS_PROFILE',
  'endpoint-url': 'AWS_ENDPOINT_URL',
  sandbox: 'K3SCTL_SANDBOX',
  json: 'K3SCTL_JSON',
  yes: 'K3SCTL_YES',
  verbose: 'K3SCTL_VERBOSE',
};

const argv = (id: string) => id.split(':');

/** Runs `fn` over `items`, at most `limit` at a time (2 shared cores: CLI processes are not free; in-process runs one at a time). */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** stdout must be exactly one JSON document (two documents or stray text fail to parse). */
function oneJson(r: CliResult): Json {
  const text = r.stdout.trim();
  if (!text) throw new Error(`nothing on stdout (exit ${r.code}); stderr:\n${r.stderr}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(
      `stdout is not exactly one JSON document (${(error as Error).message}):\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
}

function sandboxCalls(home: string): { read: number; write: number } {
  const state = JSON.parse(fs.readFileSync(path.join(home, 'sandbox/state.json'), 'utf8')) as {
    calls: { read: number; write: number };
  };
  return { read: state.calls.read, write: state.calls.write };
}

async function sandboxResources(home: string): Promise<Record<string, number>> {
  const r = await runCliInProcess(['sandbox', 'status', '--json'], { home });
  expect(r.code).toBe(0);
  return oneJson(r).resources;
}

function copyHome(home: string): string {
  const copy = tempHome();
  fs.cpSync(home, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'sandbox/lock'), { force: true });
  return copy;
}

const CFN_TYPE = /^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/;

/** The minimum JSON of a mutating command: run id, CloudFormation-typed changes, API call counts. */
function expectMutatingResult(doc: Json): void {
  expect(doc.error).toBeUndefined();
  expect(typeof doc.run).toBe('string');
  expect(Array.isArray(doc.changes)).toBe(true);
  for (const c of doc.changes) {
    expect(['create', 'update', 'delete', 'noop']).toContain(c.action);
    expect(c.type).toMatch(CFN_TYPE);
    expect(typeof c.name).toBe('string');
  }
  expect(doc.apiCalls).toEqual(
    expect.objectContaining({ read: expect.any(Number), write: expect.any(Number) }),
  );
}

// --- the shared sandbox account: an ALB with a certificate, a cluster routed through it, an endpoint ---

interface Fixture {
  home: string;
  /** Run id of the endpoint creation (a journal with changes to undo). */
  endpointRun: string;
  results: Record<string, Json>;
}

const FIXTURE_STEPS: [string, string[]][] = [
  ['certificate request', ['certificate', 'request', 'example.com', '--san', '*.example.com']],
  ['certificate request (spare)', ['certificate', 'request', 'other.example.com']],
  ['alb create', ['alb', 'create', 'shared', '--certificate-domain', 'example.com']],
  [
    'cluster create',
    ['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com'],
  ],
  [
    'endpoint create',
    ['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'demo'],
  ],
  // A cluster behind no endpoint: `cluster delete demo` is refused while endpoint blog forwards to it.
  ['cluster create (spare)', ['cluster', 'create', 'spare', '--control-planes', '1', '--nodes', '0']],
];

let fixturePromise: Promise<Fixture> | undefined;
function fixture(): Promise<Fixture> {
  fixturePromise ??= (async () => {
    const home = tempHome();
    const results: Fixture['results'] = {};
    for (const [name, args] of FIXTURE_STEPS) {
      const r = await runCliInProcess([...args, '--sandbox', '--yes', '--json'], { home });
      if (r.code !== 0)
        throw new Error(`fixture step ${name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      results[name] = oneJson(r);
    }
    return { home, endpointRun: results['endpoint create'].run, results };
  })();
  return fixturePromise;
}

/** Arguments that make sense in the fixture account, by command, then by argument name. */
function sampleArgs(id: string, fx: Fixture): string[] {
  const byCommand: Record<string, string[]> = {
    'cluster:create': ['demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com'],
    'cluster:delete': ['spare'],
    'controlplane:add': ['demo', 'cp2'],
    'nodegroup:add': ['demo', 'ng2'],
    'nodegroup:scale': ['demo', 'nodes', '--nodes', '3'],
    'nodegroup:delete': ['demo', 'nodes'],
    recycle: ['demo', '--force'],
    upgrade: ['demo', '--k3s-version', 'v1.32.2+k3s1'],
    'alb:create': ['shared', '--certificate-domain', 'example.com'],
    'alb:delete': ['shared', '--force'],
    'alb:list': [],
    'certificate:request': ['example.com', '--san', '*.example.com'],
    'certificate:delete': ['other.example.com'],
    'endpoint:create': ['blog2', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'demo'],
    'endpoint:delete': ['blog'],
    'endpoint:weight': ['blog', 'demo=2'],
    'runs:rollback': [fx.endpointRun],
  };
  if (byCommand[id]) return byCommand[id];
  const byArg: Record<string, string> = {
    name: 'demo',
    cluster: 'demo',
    group: 'nodes',
    service: 'blog',
    domain: 'example.com',
    certificate: 'other.example.com',
    runId: fx.endpointRun,
  };
  return Object.entries(COMMANDS[id].args)
    .filter(([, a]) => a.required)
    .map(([name]) => byArg[name] ?? 'demo');
}

// ------------------------------------------------------------------------------------------------

describe('every command: the surface', () => {
  it('the manifest lists the commands of README.md, Scripting and CI', () => {
    for (const id of [
      'cluster:create',
      'cluster:delete',
      'cluster:list',
      'cluster:describe',
      'nodegroup:add',
      'sandbox:status',
    ]) {
      expect(IDS).toContain(id);
    }
  });

  it.each(IDS)('%s has every global flag with its environment fallback', (id) => {
    const flags = COMMANDS[id].flags;
    for (const [name, env] of Object.entries(GLOBAL_FLAG_ENV)) {
      expect({ flag: name, env: flags[name]?.env }).toEqual({ flag: name, env });
    }
    for (const [name, flag] of Object.entries(flags)) {
      if (flag.env)
        expect({ flag: name, env: flag.env }).toEqual({
          flag: name,
          env: expect.stringMatching(/^(K3SCTL|AWS)_[A-Z0-9_]+$/),
        });
    }
  });

  it.each(MUTATING)('%s (mutating) has --dry-run and --yes', (id) => {
    expect(COMMANDS[id].flags['dry-run']?.type).toBe('boolean');
    expect(COMMANDS[id].flags.yes?.type).toBe('boolean');
  });
});

describe('every command: --help', () => {
  let results: Record<string, CliResult & { sdk: number }>;
  beforeAll(async () => {
    const list = await pool(IDS, 3, async (id) => {
      const r = await runCli([...argv(id), '--help'], { nodeArgs: ['-r', PRELOAD] });
      const m = /LOADED_SDK_MODULES=(\d+)/.exec(r.stderr);
      return { ...r, sdk: m ? Number(m[1]) : -1 };
    });
    results = Object.fromEntries(IDS.map((id, i) => [id, list[i]]));
  }, 240_000);

  it.each(IDS)('%s --help exits 0, shows usage and the global flags, and does not load the AWS SDK', (id) => {
    const r = results[id];
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/USAGE/);
    expect(r.stdout).toMatch(/--json/);
    expect(r.stdout).toMatch(/--region/);
    expect(r.sdk).toBe(0);
  });
});

describe('every command: invalid input with --json', () => {
  /** Without its required arguments, or with an unknown flag when it requires none. */
  const cases = IDS.map((id) => {
    const required = Object.entries(COMMANDS[id].args).filter(([, a]) => a.required);
    return required.length
      ? { id, args: [...argv(id), '--json'], field: required[0][0].toUpperCase() }
      : { id, args: [...argv(id), '--json', '--no-such-flag'], field: '--no-such-flag' };
  });
  let results: CliResult[];
  beforeAll(async () => {
    const home = tempHome();
    results = await pool(cases, 1, (c) => runCliInProcess(c.args, { home }));
  }, 240_000);

  it.each(cases.map((c, i) => [c.args.join(' '), i] as const))(
    '%s exits 2 with one JSON error document naming the field',
    (_, i) => {
      const r = results[i];
      expect(r.code).toBe(2);
      const doc = oneJson(r);
      expect(doc.error).toMatchObject({
        type: 'UserError',
        field: cases[i].field,
        message: expect.any(String),
      });
      expect(doc.error.stack).toBeUndefined();
      // one message on stderr, not a stack trace
      expect(r.stderr.match(/^Error: /gm)).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it.each(
    [
      ['cluster', 'create'],
      ['alb', 'create'],
      ['certificate', 'request'],
      ['endpoint', 'create'],
    ].filter((a) => COMMANDS[a.join(':')]),
  )('%s %s without a name (no argument, no file) exits 2 naming it', async (...words) => {
    const r = await runCliInProcess([...words, '--json', '--sandbox']);
    expect(r.code).toBe(2);
    expect(oneJson(r).error).toMatchObject({ type: 'UserError', field: expect.stringMatching(/^[A-Z]+$/) });
  });
});

describe('every command against the sandbox', () => {
  let fx: Fixture;
  let read: Record<string, CliResult & { before: number; after: number }>;
  let dry: Record<
    string,
    CliResult & {
      home: string;
      before: { read: number; write: number };
      after: { read: number; write: number };
    }
  >;

  beforeAll(async () => {
    fx = await fixture();
    const readHome = copyHome(fx.home);
    read = {};
    // Sequential in one account: each read command's write count is checked.
    for (const id of READ) {
      const before = sandboxCalls(readHome).write;
      const r = await runCliInProcess([...argv(id), ...sampleArgs(id, fx), '--sandbox', '--json'], { home: readHome });
      read[id] = { ...r, before, after: sandboxCalls(readHome).write };
    }
    const list = await pool(MUTATING, 1, async (id) => {
      const home = copyHome(fx.home);
      const before = sandboxCalls(home);
      const r = await runCliInProcess(
        [...argv(id), ...sampleArgs(id, fx), '--sandbox', '--dry-run', '--yes', '--json'],
        { home },
      );
      return { ...r, home, before, after: sandboxCalls(home) };
    });
    dry = Object.fromEntries(MUTATING.map((id, i) => [id, list[i]]));
  }, 300_000);

  it('the fixture runs (certificate, ALB, cluster, endpoint) return the mutating-command JSON', () => {
    for (const [name, doc] of Object.entries(fx.results)) {
      expectMutatingResult(doc);
      expect({
        name,
        writes: doc.apiCalls.write > 0,
        created: doc.changes.some((c: { action: string }) => c.action === 'create'),
      }).toEqual({
        name,
        writes: true,
        created: true,
      });
    }
  });

  it.each(READ)('%s --sandbox --json prints one JSON document and writes nothing', (id) => {
    const r = read[id];
    expect(r.code).toBe(0);
    const doc = oneJson(r);
    expect(doc.error).toBeUndefined();
    expect(r.after).toBe(r.before);
  });

  it.each(MUTATING)('%s --dry-run writes nothing and returns the mutating-command JSON', (id) => {
    const r = dry[id];
    expect(r.after.write).toBe(r.before.write);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const doc = oneJson(r);
    expect(doc.dryRun).toBe(true);
    expectMutatingResult(doc);
  });

  it.each(MUTATING)('%s --dry-run leaves no journal (`runs list` shows only real runs)', (id) => {
    const r = dry[id];
    expect(r.code).toBe(0);
    const run = oneJson(r).run;
    const journal = path.join(r.home, 'runs', `${run}.jsonl`);
    // runs rollback --dry-run names the run it previews, whose journal is the fixture's own.
    if (id !== 'runs:rollback') expect(fs.existsSync(journal)).toBe(false);
  });

  it('K3SCTL_DRY_RUN=1 is the environment fallback of --dry-run', async () => {
    const home = copyHome(fx.home);
    const before = sandboxCalls(home);
    const r = await runCliInProcess(['cluster', 'delete', 'spare', '--sandbox', '--yes', '--json'], {
      home,
      env: { K3SCTL_DRY_RUN: '1' },
    });
    expect(r.code).toBe(0);
    expect(oneJson(r).dryRun).toBe(true);
    expect(sandboxCalls(home).write).toBe(before.write);
  });

  describe('no prompt without a terminal: a command that needs an answer fails naming --yes', () => {
    const table = (ids: string[]) => ids.filter((id) => COMMANDS[id]);
    const check = async (id: string) => {
      const home = copyHome(fx.home);
      const before = sandboxCalls(home).write;
      // CI unset and stdin not a terminal (/dev/null): the non-TTY rule alone must refuse.
      const r = await runCliInProcess([...argv(id), ...sampleArgs(id, fx), '--sandbox'], {
        home,
        env: { CI: '' },
        timeoutMs: 30_000,
      });
      expect({ code: r.code, namesYes: /--yes/.test(r.stderr) }).toEqual({ code: 2, namesYes: true });
      expect(r.stdout).toBe('');
      expect(sandboxCalls(home).write).toBe(before);
    };
    it.each(table(NEEDS_YES))('%s', check, 60_000);

    const hasScript = spawnSync('script', ['--version']).status === 0;
    (hasScript ? it : it.skip)(
      'on a terminal with CI set, cluster delete still refuses instead of prompting',
      async () => {
        const home = copyHome(fx.home);
        const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(
            'script',
            ['-qec', `${process.execPath} ${BIN} cluster delete demo --sandbox`, '/dev/null'],
            {
              env: { ...process.env, K3SCTL_HOME: home, CI: 'true' },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (out += d));
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, out });
          });
        });
        expect(r.code).toBe(2);
        expect(r.out).toMatch(/--yes/);
      },
      60_000,
    );
  });

  it('K3SCTL_YES=1 is the environment fallback of --yes (no refusal without a terminal)', async () => {
    const home = copyHome(fx.home);
    const r = await runCliInProcess(['recycle', 'demo', '--sandbox', '--json'], {
      home,
      env: { CI: '', K3SCTL_YES: '1' },
    });
    expect(r.code).toBe(0);
    expectMutatingResult(oneJson(r));
  });
});

describe('failures: one JSON document, one message, exit 1 / 3', () => {
  const FAIL_ASG = 'CreateAutoScalingGroup#2=ValidationError';

  it('a failed create rolled back cleanly: exit 1, the error document lists what was undone', async () => {
    const home = tempHome();
    const r = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--yes', '--json'], {
      home,
      env: { K3SCTL_SANDBOX_FAULTS: FAIL_ASG },
    });
    expect(r.code).toBe(1);
    const { error } = oneJson(r);
    expect(error).toMatchObject({ type: 'RunFailedError', code: 'ValidationError', leftovers: [] });
    expect(error.rolledBack.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(home, 'runs', `${error.run}.jsonl`))).toBe(true);
    expect(error.stack).toBeUndefined();
    // printed once: the failed step, then one Error line and the rollback summary
    expect(r.stderr.split('Injected fault for CreateAutoScalingGroup')).toHaveLength(2);
    expect(r.stderr.match(/^Error: /gm)).toHaveLength(1);
    expect(r.stderr).toMatch(/^Rolled back: \d+ change\(s\) undone/m);
    expect(await sandboxResources(home)).toEqual({});
  });

  it('without --json the failure is told once too', async () => {
    const r = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--yes'], {
      env: { K3SCTL_SANDBOX_FAULTS: FAIL_ASG },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('Injected fault for CreateAutoScalingGroup')).toHaveLength(2);
    expect(r.stderr.match(/^Error: .*AutoScalingGroup.*ValidationError/gm)).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('an incomplete rollback: exit 3, JSON and stderr list every leftover and the command that finishes the cleanup', async () => {
    const home = tempHome();
    const r = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--yes', '--json'], {
      home,
      env: { K3SCTL_SANDBOX_FAULTS: `${FAIL_ASG},DeleteSecurityGroup=UnauthorizedOperation` },
    });
    expect(r.code).toBe(3);
    const { error } = oneJson(r);
    expect(error.leftovers).toEqual([
      expect.objectContaining({
        type: 'AWS::EC2::SecurityGroup',
        name: 'k3sctl-demo',
        id: expect.stringMatching(/^sg-/),
      }),
    ]);
    expect(r.stderr).toMatch(/Rollback incomplete[^\n]*\n\s+AWS::EC2::SecurityGroup k3sctl-demo \(sg-/);
    expect(r.stderr).toContain(`k3sctl runs rollback ${error.run}`);
    expect(await sandboxResources(home)).toEqual({ 'AWS::EC2::SecurityGroup': 1 });
  });

  it("an error subclass's own fields are in the JSON error (KubeconfigError reason); the stack only with --verbose", async () => {
    const plain = await runCliInProcess(['kubeconfig', 'demo', '--sandbox', '--json']);
    expect(plain.code).toBe(2);
    const { error } = oneJson(plain);
    expect(error).toMatchObject({ reason: 'no-control-plane', suggestion: expect.any(String) });
    expect(error.stack).toBeUndefined();
    const verbose = await runCliInProcess(['kubeconfig', 'demo', '--sandbox', '--json', '--verbose']);
    expect(oneJson(verbose).error.stack).toMatch(/KubeconfigError|UserError|at /);
  });

  it('an AWS error names the call: service and operation in the JSON error and on stderr (exit 1)', async () => {
    const r = await runCliInProcess(['cluster', 'list', '--sandbox', '--json'], {
      env: { K3SCTL_SANDBOX_FAULTS: 'GetParametersByPath=AccessDeniedException' },
    });
    expect(r.code).toBe(1);
    expect(oneJson(r).error).toMatchObject({
      type: 'AwsError',
      code: 'AccessDenied',
      service: 'ssm',
      operation: 'GetParametersByPath',
    });
    expect(r.stderr.match(/^Error: /gm)).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: AWS ssm:GetParametersByPath failed: AccessDenied: /m);
  });

  it('a failed write of a run names the call too (RunFailedError: service, operation of the cause)', async () => {
    const r = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--yes', '--json'], {
      env: { K3SCTL_SANDBOX_FAULTS: FAIL_ASG },
    });
    expect(r.code).toBe(1);
    expect(oneJson(r).error).toMatchObject({
      type: 'RunFailedError',
      code: 'ValidationError',
      service: 'autoscaling',
      operation: 'CreateAutoScalingGroup',
    });
  });

  it('a malformed K3SCTL_SANDBOX_BEHAVIOR is invalid input naming the variable', async () => {
    const r = await runCliInProcess(['cluster', 'list', '--sandbox', '--json'], {
      env: { K3SCTL_SANDBOX_BEHAVIOR: '{"bogus":1}' },
    });
    expect(r.code).toBe(2);
    expect(oneJson(r).error).toMatchObject({ type: 'UserError', field: 'K3SCTL_SANDBOX_BEHAVIOR' });
  });
});

describe('environment fallbacks of the global flags', () => {
  it('K3SCTL_JSON, K3SCTL_SANDBOX and AWS_REGION stand for --json, --sandbox and --region', async () => {
    const r = await runCliInProcess(['cluster', 'list'], {
      env: { K3SCTL_JSON: '1', K3SCTL_SANDBOX: '1', AWS_REGION: 'eu-west-1' },
    });
    expect(r.code).toBe(0);
    expect(oneJson(r)).toMatchObject({ region: 'eu-west-1', clusters: [] });
  });
});

// --- interruption ----------------------------------------------------------------------------------

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI, sends `signal` once `when(stderr, home)` holds (checked every 20 ms), and waits for the exit. */
function interruptWhen(
  args: string[],
  home: string,
  when: (stderr: string) => boolean,
  signal: NodeJS.Signals = 'SIGINT',
  env: Record<string, string> = {},
): Promise<Spawned & { sent: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      // 60 ms of real time per simulated call: a create takes seconds instead of a blink.
      env: {
        ...process.env,
        K3SCTL_HOME: home,
        CI: 'true',
        K3SCTL_SANDBOX_BEHAVIOR: '{"realCallDelayMs":60}',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      if (!sent && when(stderr)) {
        sent = true;
        child.kill(signal);
      }
    }, 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr, sent });
    });
  });
}

/** True once the run's journal records a finished write. */
function journalHasWrite(home: string): boolean {
  const dir = path.join(home, 'runs');
  if (!fs.existsSync(dir)) return false;
  return fs
    .readdirSync(dir)
    .some((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes('"status":"done"'));
}

describe('SIGINT / SIGTERM: rolled back, then exit 130', () => {
  it('SIGINT after the first resource was created: rolls back, exits 130, leaves the account as before', async () => {
    const home = tempHome();
    const r = await interruptWhen(['cluster', 'create', 'demo', '--sandbox', '--yes'], home, (err) =>
      err.includes('[+] created'),
    );
    expect(r.sent).toBe(true);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 130 });
    expect(r.stderr).toMatch(/rolling back/);
    expect(r.stderr).toMatch(/^Error: interrupted/m);
    expect(await sandboxResources(home)).toEqual({});
    expect(sandboxCalls(home).write).toBeGreaterThan(0);
  }, 120_000);

  it('SIGTERM with --json: one JSON error document listing what was rolled back, exit 130', async () => {
    const home = tempHome();
    const r = await interruptWhen(
      ['cluster', 'create', 'demo', '--sandbox', '--yes', '--json'],
      home,
      () => journalHasWrite(home),
      'SIGTERM',
    );
    expect(r.sent).toBe(true);
    expect(r.code).toBe(130);
    const { error } = oneJson({ code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr });
    expect(error).toMatchObject({ type: 'RunFailedError', causeType: 'InterruptedError', leftovers: [] });
    expect(error.rolledBack.length).toBeGreaterThan(0);
    expect(await sandboxResources(home)).toEqual({});
  }, 120_000);

  it('SIGINT ~500 ms after start: exit 130 (or killed by SIGINT before the CLI loaded), nothing left behind', async () => {
    const home = tempHome();
    const started = Date.now();
    const r = await interruptWhen(
      ['cluster', 'create', 'demo', '--sandbox', '--yes'],
      home,
      () => Date.now() - started >= 500,
    );
    const outcome = r.code === null ? `signal ${r.signal}` : `exit ${r.code}`;
    expect(['exit 130', 'signal SIGINT']).toContain(outcome);
    if (fs.existsSync(path.join(home, 'sandbox/state.json')))
      expect(await sandboxResources(home)).toEqual({});
  }, 120_000);
});

// --- --endpoint-url ------------------------------------------------------------------------------------

interface Recorded {
  method?: string;
  url?: string;
  target?: string;
  authorization?: string;
  body: string;
}

/**
 * A local "AWS" that records each request and refuses every one's credentials in its service's wire
 * format: a JSON-protocol error (SSM: UnrecognizedClientException), or EC2's XML one (AuthFailure).
 * (`cluster list` asks SSM and EC2 side by side: either answer may end the run.)
 */
async function fakeAws(): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({
        method: req.method,
        url: req.url,
        target: req.headers['x-amz-target'] as string | undefined,
        authorization: req.headers.authorization,
        body,
      });
      if (!req.headers['x-amz-target']) {
        res.writeHead(401, { 'content-type': 'text/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>AuthFailure</Code>' +
            '<Message>AWS was not able to validate the provided access credentials</Message></Error></Errors>' +
            '<RequestID>fake-request-1</RequestID></Response>',
        );
        return;
      }
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': 'fake-request-1',
      });
      res.end(
        JSON.stringify({
          __type: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('--endpoint-url reaches the SDK clients', () => {
  const FAKE_CREDENTIALS = {
    AWS_ACCESS_KEY_ID: 'AKIAK3SCTLTEST000000',
    AWS_SECRET_ACCESS_KEY: 'not-a-secret',
    AWS_PROFILE: '',
    AWS_SESSION_TOKEN: '',
  };

  it.each([
    ['--endpoint-url', (url: string) => ({ args: ['--endpoint-url', url], env: {} })],
    ['AWS_ENDPOINT_URL', (url: string) => ({ args: [], env: { AWS_ENDPOINT_URL: url } })],
  ])('cluster list with %s: the request arrives, the AWS error is named, exit non-zero', async (_, how) => {
    const aws = await fakeAws();
    try {
      const { args, env } = how(aws.url);
      const r = await runCliInProcess(['cluster', 'list', '--region', 'us-east-1', '--json', ...args], {
        env: { ...FAKE_CREDENTIALS, ...env },
      });
      expect(aws.requests.length).toBeGreaterThan(0);
      const first = aws.requests[0];
      expect(first.method).toBe('POST');
      expect(first.target ?? first.body).toMatch(/AmazonSSM\.GetParametersByPath|Action=Describe/);
      expect(first.authorization).toMatch(
        /Credential=AKIAK3SCTLTEST000000\/\d{8}\/us-east-1\/(ssm|ec2)\/aws4_request/,
      );
      // Credentials AWS refuses: exit 2, AWS's code and words and the call kept, what to do added.
      expect(r.code).toBe(2);
      const { error } = oneJson(r);
      expect(error).toMatchObject({
        type: 'CredentialsError',
        code: expect.stringMatching(/^(UnrecognizedClient|AuthFailure)$/),
        message: expect.stringMatching(/security token|validate the provided access credentials/),
        suggestion: expect.stringContaining('aws configure list'),
      });
      expect(error).toMatchObject({
        service: expect.stringMatching(/^(ssm|ec2)$/),
        operation: expect.stringMatching(/^(GetParametersByPath|Describe\w+)$/),
      });
      expect(r.stderr).toMatch(/^Error: AWS (ssm|ec2):\w+ failed: (UnrecognizedClient|AuthFailure): /m);
    } finally {
      await aws.close();
    }
  });
});
