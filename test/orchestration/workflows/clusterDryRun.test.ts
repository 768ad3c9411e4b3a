// `cluster create --dry-run` plans, checked against golden files (regenerate with K3SCTL_UPDATE_GOLDEN=1):
// a new cluster, then a changed input on the existing one (updates with the fields that differ).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec } from '../../../src/config/cluster';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { renderPlan } from '../../../src/ui/plan';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

function golden(name: string, text: string): void {
  const file = path.join(__dirname, 'golden', name);
  if (process.env.K3SCTL_UPDATE_GOLDEN === '1') fs.writeFileSync(file, text);
  expect(text).toBe(fs.readFileSync(file, 'utf8'));
}

describe('cluster create --dry-run', () => {
  it('plans a new cluster and an update without writing', async () => {
    const sb = new Sandbox();
    const home = sandboxDeps(sb).home;
    const next = () => sandboxDeps(sb, { home }).deps;
    const spec = buildClusterSpec({ name: 'plan', region: 'us-east-1', sshCidrs: ['203.0.113.0/24'] });
    const fresh = next();
    const planned = await clusterCreate(fresh, spec, { dryRun: true });
    expect(fresh.clients.calls.write).toBe(0);
    golden('cluster-create-new.plan.txt', `${renderPlan(planned.planned)}\n`);

    await clusterCreate(next(), spec, { wait: false });
    const changed = buildClusterSpec({ name: 'plan', region: 'us-east-1', sshCidrs: ['198.51.100.0/24'], nodes: 4, nodeType: 't3.large' });
    const update = next();
    const updatePlan = await clusterCreate(update, changed, { dryRun: true });
    expect(update.clients.calls.write).toBe(0);
    // Ids come from the sandbox's allocator; the golden file shows names and fields only.
    const stable = updatePlan.planned.map((c) => ({ ...c, id: undefined }));
    golden('cluster-create-update.plan.txt', `${renderPlan(stable)}\n`);
  });
});
