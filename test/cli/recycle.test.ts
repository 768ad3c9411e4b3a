// `k3sctl recycle` / `k3sctl upgrade` end to end: the CLI's commands in process
// (test/helpers/inProcessCli.ts) against a sandbox account seeded with a node group whose instances
// are out of date.
import * as path from 'node:path';
import { SandboxStore } from '../../src/sandbox/store';
import { sandboxClients } from '../../src/sandbox/clients';
import { bumpLaunchTemplate, createAsgFixture, storeFixtureModel, waitSettled } from '../helpers/asgFixture';
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

jest.setTimeout(180_000);

const newHome = tempHomes();

async function seededHome(): Promise<string> {
  const home = newHome();
  const store = new SandboxStore(path.join(home, 'sandbox'));
  const sb = await store.open();
  try {
    const clients = sandboxClients(sb, 'us-east-1');
    const f = await createAsgFixture(clients, { size: 2 });
    await waitSettled(clients, sb.clock, f.autoScalingGroupName);
    await bumpLaunchTemplate(clients, f);
    await storeFixtureModel(clients, [f]);
    clients.destroy();
    store.save(sb);
  } finally {
    store.release();
  }
  return home;
}

describe('k3sctl recycle (CLI)', () => {
  it('--dry-run --json lists the plan and writes nothing; without --yes and no TTY it refuses (exit 2)', async () => {
    const home = await seededHome();
    const dry = await runCliInProcess(
      ['recycle', 'demo', '--sandbox', '--dry-run', '--json', '--strategy', 'serial'],
      { home },
    );
    expect(dry.stderr).not.toMatch(/Error/);
    expect(dry.code).toBe(0);
    const doc = JSON.parse(dry.stdout);
    expect(doc.dryRun).toBe(true);
    expect(doc.apiCalls.write).toBe(0);
    expect(doc.groups[0].outdated).toHaveLength(2);

    const refused = await runCliInProcess(['recycle', 'demo', '--sandbox'], { home });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);

    const bad = await runCliInProcess(
      ['recycle', 'demo', '--sandbox', '--strategy', 'serial', '--max-surge', '2', '--yes'],
      { home },
    );
    expect(bad.code).toBe(2);
  });

  it('--yes --json replaces the out-of-date instances and lists every replacement with timings', async () => {
    const home = await seededHome();
    const r = await runCliInProcess(
      ['recycle', 'demo', '--sandbox', '--yes', '--json', '--strategy', 'rolling', '--batch', '50%'],
      { home },
    );
    expect(r.stderr).not.toMatch(/^Error/m);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.replacements).toHaveLength(2);
    for (const x of doc.replacements) {
      expect(x).toMatchObject({
        group: 'workers',
        oldInstanceId: expect.stringMatching(/^i-/),
        newInstanceId: expect.stringMatching(/^i-/),
      });
      expect(x.durationMs).toBeGreaterThan(0);
    }
    expect(doc.changes.some((c: { type: string }) => c.type === 'AWS::EC2::Instance')).toBe(true);

    const again = await runCliInProcess(['recycle', 'demo', '--sandbox', '--yes', '--json'], { home });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).apiCalls.write).toBe(0);
  });

  it('upgrade refuses to skip a minor version without --force (exit 2, no write)', async () => {
    const home = await seededHome();
    const r = await runCliInProcess(
      ['upgrade', 'demo', '--sandbox', '--k3s-version', 'v1.33.0+k3s1', '--yes', '--json'],
      { home },
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/skips 1 minor/);
  });
});
