// CLI end to end (sandbox, no TTY) for the shared-ingress commands' script contract:
// the destructive ones (alb delete, certificate delete, endpoint delete, endpoint weight) refuse with
// exit 2 naming --yes when no question can be asked, and write nothing; --dry-run previews without
// --yes; with --yes they run. The -f files of alb create / certificate request / endpoint create:
// an unknown field or a wrong type is exit 2 naming the field and the kind's own schema.
// The commands run in process through oclif (test/helpers/inProcessCli.ts); the answers on a terminal
// run the built bin/run.js on a pseudo-terminal (`script`).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, tempHomes, type CliResult } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const newHome = tempHomes();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function oneJson(r: CliResult): Json {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

async function writes(home: string): Promise<number> {
  const r = await runCliInProcess(['sandbox', 'status', '--json'], { home });
  if (r.code !== 0) throw new Error(`sandbox status: exit ${r.code}\n${r.stderr}`);
  return oneJson(r).calls.write;
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), CI unset, answering `answer` to the first y/N question. */
function onTerminal(
  args: string[],
  home: string,
  answer: string,
): Promise<{ code: number | null; out: string; asked: boolean }> {
  return new Promise((resolve) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, K3SCTL_HOME: home, CI: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let asked = false;
    const onData = (d: Buffer) => {
      out += d;
      if (!asked && /\(y\/N\)/.test(out)) {
        asked = true;
        child.stdin.write(`${answer}\r`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, asked });
    });
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

const DESTRUCTIVE: [string, string[]][] = [
  ['endpoint weight', ['endpoint', 'weight', 'blog', 'alpha=2']],
  ['endpoint delete', ['endpoint', 'delete', 'blog']],
  ['alb delete', ['alb', 'delete', 'shared', '--force']],
  ['certificate delete', ['certificate', 'delete', 'spare.example.com']],
];

describe('shared-ingress commands: confirmation and files (CLI, sandbox)', () => {
  const home = newHome();
  const cli = (args: string[], env?: Record<string, string>) => runCliInProcess([...args, '--sandbox'], { home, env });
  const ok = async (args: string[]) => {
    const r = await cli([...args, '--json']);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    return oneJson(r);
  };
  const file = (name: string, text: string) => {
    const p = path.join(home, name);
    fs.writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    await ok(['certificate', 'request', 'example.com', '--san', '*.example.com', '--yes']);
    await ok([
      'certificate',
      'request',
      '-f',
      file('spare.yaml', 'domain: spare.example.com\nzone: example.com\n'),
      '--yes',
    ]);
    await ok([
      'alb',
      'create',
      '-f',
      file('alb.yaml', 'name: shared\ncertificateDomain: example.com\n'),
      '--yes',
    ]);
    await ok([
      'cluster',
      'create',
      'alpha',
      '--ingress-alb',
      'shared',
      '--ingress-zone',
      'example.com',
      '--control-planes',
      '1',
      '--nodes',
      '1',
      '--yes',
    ]);
    const endpoint = file(
      'blog.yaml',
      'service: blog\nzone: example.com\nalb: shared\nclusters: [alpha]\nweights: { alpha: 1 }\n',
    );
    // flags override the file: --weight alpha=3 wins over weights.alpha 1
    const created = await ok(['endpoint', 'create', '-f', endpoint, '--weight', 'alpha=3', '--yes']);
    expect(created.endpoint).toMatchObject({
      host: 'blog.example.com',
      clusters: [expect.objectContaining({ cluster: 'alpha', weight: 3 })],
    });
  }, 240_000);

  describe.each(DESTRUCTIVE)('%s', (_, args) => {
    it('without --yes and without a terminal exits 2 naming --yes, and writes nothing', async () => {
      const before = await writes(home);
      // CI unset: stdin not being a terminal is enough to refuse.
      const plain = await cli(args, { CI: '' });
      expect({ code: plain.code, stdout: plain.stdout }).toEqual({ code: 2, stdout: '' });
      expect(plain.stderr).toMatch(/missing required input: --yes/);
      expect(plain.stderr).toMatch(/--dry-run/);
      // CI set, with --json: one JSON error naming the field.
      const json = await cli([...args, '--json']);
      expect(json.code).toBe(2);
      expect(oneJson(json).error).toMatchObject({ type: 'UserError', field: '--yes' });
      expect(await writes(home)).toBe(before);
    }, 60_000);

    it('with --dry-run and without --yes shows the plan and writes nothing', async () => {
      const before = await writes(home);
      const doc = await ok([...args, '--dry-run']);
      expect(doc.dryRun).toBe(true);
      expect(doc.planned.length).toBeGreaterThan(0);
      expect(await writes(home)).toBe(before);
    }, 60_000);
  });

  (hasScript ? describe : describe.skip)(
    'on a terminal (no CI, no --yes) the plan is shown and a question asked',
    () => {
      it('answering no changes nothing (exit 2, cancelled)', async () => {
        const before = await writes(home);
        const r = await onTerminal(['endpoint', 'delete', 'blog', '--sandbox'], home, 'n');
        expect(r.asked).toBe(true);
        expect(r.out).toMatch(/delete +AWS::ElasticLoadBalancingV2::ListenerRule +blog\.example\.com/);
        expect(r.out).toMatch(/cancelled: nothing was deleted/);
        expect(r.code).toBe(2);
        expect(await writes(home)).toBe(before);
        expect((await ok(['endpoint', 'list'])).endpoints).toHaveLength(1);
      }, 60_000);

      it('answering yes applies the change', async () => {
        const r = await onTerminal(['endpoint', 'weight', 'blog', 'alpha=5', '--sandbox'], home, 'y');
        expect(r.asked).toBe(true);
        expect(r.out).toMatch(/weights: alpha=3 -> alpha=5/);
        expect(r.code).toBe(0);
        expect((await ok(['endpoint', 'describe', 'blog'])).endpoint.clusters).toEqual([
          expect.objectContaining({ cluster: 'alpha', weight: 5 }),
        ]);
      }, 60_000);
    },
  );

  it('with --yes each of them runs (weight, endpoint, ALB, certificate), and the account is left empty', async () => {
    const weighted = await ok(['endpoint', 'weight', 'blog', 'alpha=2', '--yes']);
    expect(weighted.to).toEqual({ alpha: 2 });
    expect(weighted.from).toEqual(hasScript ? { alpha: 5 } : { alpha: 3 });
    expect(weighted.apiCalls.write).toBeGreaterThan(0);
    // K3SCTL_YES is --yes's environment fallback
    const again = await cli(['endpoint', 'weight', 'blog', 'alpha=2', '--json'], { K3SCTL_YES: '1' });
    expect(again.code).toBe(0);
    expect(oneJson(again).apiCalls.write).toBe(0);

    const endpoint = await ok(['endpoint', 'delete', 'blog', '--yes']);
    expect(endpoint.changes.map((c: { action: string }) => c.action)).toEqual(['delete', 'delete', 'delete']);
    expect((await ok(['endpoint', 'list'])).endpoints).toEqual([]);
    await ok(['cluster', 'delete', 'alpha', '--yes']);
    const alb = await ok(['alb', 'delete', 'shared', '--yes']);
    expect(alb.alb.name).toBe('shared');
    expect((await ok(['alb', 'list'])).albs).toEqual([]);
    for (const domain of ['spare.example.com', 'example.com']) {
      const cert = await ok(['certificate', 'delete', domain, '--yes']);
      expect(cert.certificate.domain).toBe(domain);
    }
    expect((await ok(['certificate', 'list'])).certificates).toEqual([]);
    expect((await ok(['sandbox', 'status'])).resources).toEqual({});
  }, 240_000);
});

describe('-f files of alb create / certificate request / endpoint create (CLI, sandbox)', () => {
  const home = newHome();
  const write = (name: string, text: string) => {
    const p = path.join(home, name);
    fs.writeFileSync(p, text);
    return p;
  };

  it.each([
    [
      'alb',
      ['alb', 'create'],
      'name: shared\ncertificateDomain: example.com\nlisteners: [80, 443]\n',
      'listeners',
      3,
    ],
    [
      'certificate',
      ['certificate', 'request'],
      'domain: example.com\nsubjectAlternativeNames: ["*.example.com"]\n',
      'subjectAlternativeNames',
      2,
    ],
    [
      'endpoint',
      ['endpoint', 'create'],
      'service: blog\nzone: example.com\nalb: shared\nclusters: [alpha]\nweight: { alpha: 2 }\n',
      'weight',
      5,
    ],
  ] as const)(
    '%s: an unknown field exits 2 naming it (FILE:LINE field) and its own schema, and writes nothing',
    async (kind, words, yaml, key, line) => {
      const file = write(`${kind}-unknown.yaml`, yaml);
      const field = `${file}:${line} ${key}`;
      const r = await runCliInProcess([...words, '-f', file, '--sandbox', '--yes', '--json'], { home });
      expect(r.code).toBe(2);
      const { error } = oneJson(r);
      expect(error).toMatchObject({ type: 'UserError', field, message: `${field}: unknown field` });
      expect(error.suggestion).toContain(`schema/${kind}.schema.json`);
      const human = await runCliInProcess([...words, '-f', file, '--sandbox', '--yes'], { home });
      expect(human.code).toBe(2);
      expect(human.stderr).toContain(`Error: ${field}: unknown field`);
      expect(human.stderr).toContain(`schema/${kind}.schema.json`);
      expect(human.stderr).not.toContain('cluster.schema.json');
      expect(fs.existsSync(path.join(home, 'sandbox/state.json')) ? await writes(home) : 0).toBe(0);
    },
    60_000,
  );

  it.each([
    ['alb', ['alb', 'create'], 'name: shared\ninternal: "yes"\n', 'internal', 2],
    ['certificate', ['certificate', 'request'], 'domain: example.com\nsans: "*.example.com"\n', 'sans', 2],
    [
      'endpoint',
      ['endpoint', 'create'],
      'service: blog\nzone: example.com\nalb: shared\nclusters: [alpha]\nweights: { alpha: 1000 }\n',
      'weights.alpha',
      5,
    ],
  ] as const)(
    '%s: a wrong type exits 2 naming the field (FILE:LINE field)',
    async (kind, words, yaml, key, line) => {
      const file = write(`${kind}-type.yaml`, yaml);
      const field = `${file}:${line} ${key}`;
      const r = await runCliInProcess([...words, '-f', file, '--sandbox', '--yes', '--json'], { home });
      expect(r.code).toBe(2);
      const { error } = oneJson(r);
      expect(error).toMatchObject({ type: 'UserError', field, suggestion: `see schema/${kind}.schema.json` });
      expect(error.message).toContain(`${field}: `);
    },
    60_000,
  );
});
