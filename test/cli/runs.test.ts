// `runs list` and `runs rollback` through the CLI's commands in process
// (test/helpers/inProcessCli.ts): dry runs leave no journal (they are not runs that could have
// changed anything), and a rollback prints the mutating-command JSON: the undone entries as
// `changes` (a deletion, or an update restoring a value) and the `apiCalls` it made.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempHome, type CliResult } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function oneJson(r: CliResult): Json {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

describe('runs list and runs rollback', () => {
  const home = tempHome();
  const ok = async (args: string[], env: Record<string, string> = {}): Promise<Json> => {
    const r = await runCliInProcess([...args, '--sandbox', '--json'], { home, env });
    if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return oneJson(r);
  };
  const runs = async (): Promise<{ runId: string; title: string; status: string }[]> =>
    (await ok(['runs', 'list'])).runs;

  let certificateRun: string;
  let weightRun: string;

  beforeAll(async () => {
    certificateRun = (await ok(['certificate', 'request', 'example.com', '--san', '*.example.com', '--yes']))
      .run;
    await ok(['alb', 'create', 'shared', '--certificate-domain', 'example.com', '--yes']);
    const cluster = ['--ingress-alb', 'shared', '--ingress-zone', 'example.com'];
    await ok(['cluster', 'create', 'alpha', ...cluster, '--control-planes', '1', '--nodes', '1', '--yes']);
    await ok([
      'endpoint',
      'create',
      'blog',
      '--zone',
      'example.com',
      '--alb',
      'shared',
      '--cluster',
      'alpha',
      '--yes',
    ]);
    weightRun = (await ok(['endpoint', 'weight', 'blog', 'alpha=3', '--yes'])).run;
  }, 240_000);

  it('dry runs (--dry-run or K3SCTL_DRY_RUN) leave no journal: runs list shows only the real runs', async () => {
    const before = await runs();
    expect(before.map((r) => r.status)).toEqual(Array(before.length).fill('succeeded'));
    const dry = [
      await ok(['endpoint', 'weight', 'blog', 'alpha=5', '--dry-run']),
      await ok(['cluster', 'create', 'alpha', '--control-planes', '1', '--nodes', '2'], {
        K3SCTL_DRY_RUN: '1',
      }),
      await ok(['nodegroup', 'scale', 'alpha', 'nodes', '--nodes', '2', '--dry-run']),
    ];
    for (const doc of dry) {
      expect(doc.dryRun).toBe(true);
      expect(fs.existsSync(path.join(home, 'runs', `${doc.run}.jsonl`))).toBe(false);
    }
    expect(await runs()).toEqual(before);
  }, 120_000);

  it('runs rollback --dry-run: the mutating-command JSON with nothing changed and no call made', async () => {
    const doc = await ok(['runs', 'rollback', weightRun, '--force', '--dry-run']);
    expect(doc).toMatchObject({ run: weightRun, dryRun: true, changes: [], apiCalls: { read: 0, write: 0 } });
    expect(doc.undo.length).toBeGreaterThan(0);
    expect(doc.undo.map((u: Json) => u.action)).toEqual(Array(doc.undo.length).fill('restore'));
  });

  it('without --yes and without a terminal it refuses naming --yes (exit 2) and changes nothing', async () => {
    const r = await runCliInProcess(['runs', 'rollback', weightRun, '--force', '--sandbox', '--json'], { home });
    expect(r.code).toBe(2);
    expect(oneJson(r).error).toMatchObject({ type: 'UserError', field: '--yes' });
    const plain = await runCliInProcess(['runs', 'rollback', weightRun, '--force', '--sandbox'], {
      home,
      env: { CI: '' },
    });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/missing required input: --yes/);
  });

  it('a restored value is an `update` change; the calls are counted', async () => {
    const doc = await ok(['runs', 'rollback', weightRun, '--force', '--yes']);
    expect(doc.changes.length).toBeGreaterThan(0);
    expect(doc.changes).toHaveLength(doc.rolledBack.length);
    expect(doc.changes.map((c: Json) => c.action)).toEqual(Array(doc.changes.length).fill('update'));
    expect(doc.changes).toContainEqual(
      expect.objectContaining({
        type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
        name: 'blog.example.com',
      }),
    );
    expect(doc.apiCalls.write).toBeGreaterThan(0);
    expect((await ok(['endpoint', 'describe', 'blog'])).endpoint.clusters).toEqual([
      expect.objectContaining({ cluster: 'alpha', weight: 1 }),
    ]);
    expect((await runs()).find((r) => r.runId === weightRun)?.status).toBe('rolled-back');
  }, 60_000);

  it('deleted resources are `delete` changes, with their ids', async () => {
    await ok(['endpoint', 'delete', 'blog', '--yes']);
    await ok(['cluster', 'delete', 'alpha', '--yes']);
    await ok(['alb', 'delete', 'shared', '--yes']);
    const doc = await ok(['runs', 'rollback', certificateRun, '--force', '--yes']);
    expect(doc.changes.length).toBeGreaterThan(0);
    expect(doc.changes.map((c: Json) => c.action)).toEqual(Array(doc.changes.length).fill('delete'));
    expect(doc.changes).toContainEqual(
      expect.objectContaining({
        type: 'AWS::CertificateManager::Certificate',
        id: expect.stringMatching(/^arn:/),
      }),
    );
    expect((await ok(['certificate', 'list'])).certificates).toEqual([]);
  }, 120_000);
});

describe('alb delete refused while clusters route through it', () => {
  it('names --force as the field', async () => {
    const home = tempHome();
    const ok = async (args: string[]) => {
      const r = await runCliInProcess([...args, '--sandbox', '--yes', '--json'], { home });
      if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    };
    await ok(['certificate', 'request', 'example.com', '--san', '*.example.com']);
    await ok(['alb', 'create', 'shared', '--certificate-domain', 'example.com']);
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
    ]);
    const r = await runCliInProcess(['alb', 'delete', 'shared', '--sandbox', '--yes', '--json'], { home });
    expect(r.code).toBe(2);
    expect(oneJson(r).error).toMatchObject({
      type: 'UserError',
      field: '--force',
      suggestion: expect.stringMatching(/--force/),
    });
  }, 180_000);
});
