// The kit's flag helpers: a flag named back as the user gave it, flags read before the parse, and the
// K3SCTL_DRY_RUN fallback every --dry-run gets.
import { argvHas, asGiven, DRY_RUN_ENV, truthyEnv, withDryRunEnv } from '../../../src/cli/flags';

describe('asGiven', () => {
  const nodeType = { aliases: ['instance-type'], env: 'K3SCTL_TEST_NODE_TYPE' };
  const file = { char: 'f', env: 'K3SCTL_TEST_FILE' };
  afterEach(() => {
    delete process.env.K3SCTL_TEST_NODE_TYPE;
    delete process.env.K3SCTL_TEST_FILE;
  });

  it('names the flag as typed: long form, alias or short form', () => {
    expect(asGiven('--node-type', nodeType, ['--node-type', 't3.small'])).toBe('--node-type');
    expect(asGiven('--node-type', nodeType, ['--node-type=t3.small'])).toBe('--node-type');
    expect(asGiven('--node-type', nodeType, ['--instance-type', 't3.small'])).toBe('--instance-type');
    expect(asGiven('--file', file, ['-f', 'x.yaml'])).toBe('-f');
    expect(asGiven('--file', file, ['-fx.yaml'])).toBe('-f');
  });

  it('names the environment variable when the value came from there', () => {
    process.env.K3SCTL_TEST_NODE_TYPE = 't3.small';
    expect(asGiven('--node-type', nodeType, [])).toBe('K3SCTL_TEST_NODE_TYPE');
    expect(asGiven('--node-type', nodeType, ['--node-type', 'x'])).toBe('--node-type');
  });

  it('ignores what follows --, and returns arguments and unknown flags as they are', () => {
    expect(asGiven('--file', file, ['--', '-f'])).toBe('--file');
    expect(asGiven('NAME', file, ['-f'])).toBe('NAME');
    expect(asGiven('--nope', undefined, ['--nope'])).toBe('--nope');
  });
});

describe('flags read before the parse', () => {
  it('argvHas sees flags before -- only', () => {
    expect(argvHas(['--json'], '--json')).toBe(true);
    expect(argvHas(['-v'], '--verbose', '-v')).toBe(true);
    expect(argvHas(['--', '--json'], '--json')).toBe(false);
  });

  it('truthyEnv reads a boolean variable as oclif does', () => {
    for (const [value, expected] of [['1', true], ['true', true], ['YES', true], ['y', true], ['0', false], ['', false]] as const) {
      process.env.K3SCTL_TEST_BOOL = value;
      expect(truthyEnv('K3SCTL_TEST_BOOL')).toBe(expected);
    }
    delete process.env.K3SCTL_TEST_BOOL;
    expect(truthyEnv('K3SCTL_TEST_BOOL')).toBe(false);
  });
});

describe('withDryRunEnv', () => {
  it('gives a --dry-run declared without a fallback K3SCTL_DRY_RUN, and leaves the rest alone', () => {
    const declared = { 'dry-run': { type: 'boolean' }, nodes: { type: 'option' } };
    const flags = withDryRunEnv(declared) as Record<string, { env?: string }>;
    expect(flags['dry-run'].env).toBe(DRY_RUN_ENV);
    expect(flags.nodes).toBe(declared.nodes);
    expect((declared['dry-run'] as { env?: string }).env).toBeUndefined();
  });

  it('keeps a fallback already declared, and takes no flags at all', () => {
    const flags = withDryRunEnv({ 'dry-run': { env: 'OTHER' } });
    expect(flags['dry-run'].env).toBe('OTHER');
    expect(withDryRunEnv(undefined)).toEqual({});
  });
});
