// The in-process runner (test/helpers/inProcessCli.ts) against the process it stands for: for help,
// --version, an unknown command, parse errors, invalid input, the no-terminal refusal, an AWS error and a
// failed run rolled back, runCliInProcess() and a spawned bin/run.js give the same exit code, stdout and
// stderr (run ids and the temporary home aside), and so do the steps of the README's Quick start. And it
// leaves the test process as it found it.
import { runCli, tempHomes, type CliResult } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const newHome = tempHomes();

/** What differs between two runs of the same command by design: run ids, the home, colours. */
function comparable(r: CliResult, home: string): CliResult {
  const clean = (s: string) =>
    s
      .split(home)
      .join('$HOME')
      .replace(/\d{8}T\d{6}-[0-9a-f]{6}/g, 'RUN')
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;]*m/g, '');
  return { code: r.code, stdout: clean(r.stdout), stderr: clean(r.stderr) };
}

// (Every row has its environment: jest's it.each takes a parameter beyond the row's for a `done` callback.)
const CASES: [string, string[], Record<string, string>][] = [
  ['--version', ['--version'], {}],
  ['root help', [], {}],
  ['topic help', ['cluster'], {}],
  ['command help', ['cluster', 'create', '--help'], {}],
  ['unknown command', ['nosuch'], {}],
  ['unknown flag', ['cluster', 'list', '--bogus'], {}],
  ['unknown flag, --json', ['cluster', 'list', '--bogus', '--json'], {}],
  ['missing argument, --json', ['cluster', 'describe', '--json', '--sandbox'], {}],
  ['invalid name (UserError)', ['cluster', 'create', 'Demo', '--sandbox', '--json'], {}],
  ['no terminal: refuses naming --yes', ['cluster', 'delete', 'demo', '--sandbox'], { CI: '' }],
  ['a read', ['cluster', 'list', '--sandbox', '--json'], {}],
  ['a dry run', ['cluster', 'create', 'demo', '--sandbox', '--dry-run'], {}],
  ['an AWS error (exit 1)', ['cluster', 'list', '--sandbox', '--json'], { K3SCTL_SANDBOX_FAULTS: 'GetParametersByPath=AccessDeniedException' }],
  [
    'a failed create, rolled back (exit 1)',
    ['cluster', 'create', 'demo', '--sandbox', '--yes', '--control-planes', '1', '--nodes', '0'],
    { K3SCTL_SANDBOX_FAULTS: 'CreateAutoScalingGroup#1=ValidationError' },
  ],
  ['malformed K3SCTL_SANDBOX_BEHAVIOR', ['sandbox', 'status', '--json'], { K3SCTL_SANDBOX_BEHAVIOR: '{"bogus":1}' }],
];

describe('runCliInProcess gives what the spawned CLI gives', () => {
  it.each(CASES)('%s', async (_, args, env) => {
    const [spawnedHome, inProcessHome] = [newHome(), newHome()];
    const spawned = await runCli(args, { home: spawnedHome, env });
    const inProcess = await runCliInProcess(args, { home: inProcessHome, env });
    expect(comparable(inProcess, inProcessHome)).toEqual(comparable(spawned, spawnedHome));
  });
});

describe("the README's Quick start, spawned and in process: the same output at every step", () => {
  const QUICK_START = [
    ['cluster', 'create', 'demo', '--sandbox', '--yes'],
    ['cluster', 'describe', 'demo', '--sandbox'],
    ['nodegroup', 'list', 'demo', '--sandbox'],
    ['kubeconfig', 'demo', '--sandbox', '--print'],
    ['cluster', 'delete', 'demo', '--sandbox', '--yes'],
    ['sandbox', 'status', '--json'],
  ];
  const [spawnedHome, inProcessHome] = [newHome(), newHome()];
  it.each(QUICK_START.map((args) => [args.join(' '), args] as const))('%s', async (_, args) => {
    const spawned = await runCli(args, { home: spawnedHome });
    const inProcess = await runCliInProcess(args, { home: inProcessHome });
    expect(spawned.code).toBe(0);
    expect(comparable(inProcess, inProcessHome)).toEqual(comparable(spawned, spawnedHome));
  });
});

describe('runCliInProcess leaves the test process as it found it', () => {
  it('environment, exit code, exit, standard streams, console, signal handlers, directory', async () => {
    const env = { ...process.env };
    const cwd = process.cwd();
    const exit = process.exit;
    const write = process.stdout.write;
    const log = console.log;
    const tty = process.stdin.isTTY;
    const sigint = process.listeners('SIGINT').length;
    process.exitCode = undefined;
    const r = await runCliInProcess(['cluster', 'create', 'Demo', '--sandbox', '--json'], {
      home: newHome(),
      env: { K3SCTL_VERBOSE: '1', AWS_REGION: 'eu-west-1' },
    });
    expect(r.code).toBe(2);
    expect(process.env).toEqual(env);
    expect(process.exitCode).toBeUndefined();
    expect(process.exit).toBe(exit);
    expect(process.stdout.write).toBe(write);
    expect(console.log).toBe(log);
    expect(process.stdin.isTTY).toBe(tty);
    expect(process.listeners('SIGINT')).toHaveLength(sigint);
    expect(process.cwd()).toBe(cwd);
  });

  it('the run sees exactly its environment: K3SCTL_SANDBOX_FAULTS only when given, unsetEnv removed', async () => {
    process.env.K3SCTL_SANDBOX_FAULTS = 'GetParametersByPath=AccessDeniedException';
    try {
      const home = newHome();
      const clean = await runCliInProcess(['cluster', 'list', '--sandbox', '--json'], { home });
      expect(clean.code).toBe(0);
      const json = await runCliInProcess(['sandbox', 'status'], { home, env: { K3SCTL_JSON: '1' } });
      expect(JSON.parse(json.stdout)).toMatchObject({ calls: expect.any(Object) });
      const unset = await runCliInProcess(['sandbox', 'status'], { home, env: { K3SCTL_JSON: '1' }, unsetEnv: ['K3SCTL_JSON'] });
      expect(unset.code).toBe(0);
      expect(unset.stdout).not.toMatch(/^\{/);
    } finally {
      delete process.env.K3SCTL_SANDBOX_FAULTS;
    }
  });

  it('refuses overlapping runs (they need spawned CLIs)', async () => {
    const home = newHome();
    const first = runCliInProcess(['sandbox', 'status', '--json'], { home });
    await expect(runCliInProcess(['sandbox', 'status', '--json'], { home })).rejects.toThrow(/overlapping runs need runCli/);
    expect((await first).code).toBe(0);
  });

  it('refuses node arguments (they need a spawned CLI)', async () => {
    await expect(runCliInProcess(['--version'], { nodeArgs: ['-r', 'x'] })).rejects.toThrow(/node arguments need runCli/);
  });
});
