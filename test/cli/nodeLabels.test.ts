// CLI end-to-end: node labels the kubelet refuses to set on its own node (kubernetes.io / k8s.io
// namespaces) and an IMDS hop limit outside 1-64 are invalid input: exit 2, the flag or file field
// named, and no AWS write (the sandbox account is left untouched).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const home = tempHomes();

async function expectNoWrite(h: string): Promise<void> {
  const status = await runCliInProcess(['sandbox', 'status', '--json'], { home: h });
  expect(status.code).toBe(0);
  const doc = JSON.parse(status.stdout);
  expect(doc.calls.write).toBe(0);
  expect(doc.resources).toEqual({});
}

describe('refused node labels and IMDS hop limits', () => {
  it('cluster create --label node-role.kubernetes.io/worker: exit 2 naming --label and the allowed prefixes', async () => {
    const h = home();
    const r = await runCliInProcess(['cluster', 'create', 'lbl', '--label', 'node-role.kubernetes.io/worker=true', '--sandbox', '--json', '--yes'], { home: h });
    expect(r.code).toBe(2);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({ type: 'UserError', field: '--label' });
    expect(error.message).toMatch(/node-role\.kubernetes\.io\/worker' is in the reserved kubernetes\.io \/ k8s\.io namespace/);
    expect(error.suggestion).toMatch(/kubelet\.kubernetes\.io\/ and node\.kubernetes\.io\//);
    await expectNoWrite(h);
  });

  it('the cluster file: `labels` and `controlPlaneLabels` are named as file fields', async () => {
    const h = home();
    const file = path.join(h, 'cluster.yaml');
    fs.writeFileSync(file, 'name: lbl\nlabels:\n  app.kubernetes.io/name: web\n');
    const labels = await runCliInProcess(['cluster', 'create', '-f', file, '--sandbox', '--json', '--yes'], { home: h });
    expect(labels.code).toBe(2);
    expect(JSON.parse(labels.stdout).error).toMatchObject({ field: `${file}:3 labels` });
    fs.writeFileSync(file, 'name: lbl\ncontrolPlaneLabels:\n  k8s.io/role: cp\n');
    const cp = await runCliInProcess(['cluster', 'create', '-f', file, '--sandbox', '--json', '--yes'], { home: h });
    expect(cp.code).toBe(2);
    expect(JSON.parse(cp.stdout).error).toMatchObject({ field: `${file}:3 controlPlaneLabels` });
    await expectNoWrite(h);
  });

  it('nodegroup add --label kubernetes.io/role: exit 2 naming --label', async () => {
    const h = home();
    const r = await runCliInProcess(['nodegroup', 'add', 'lbl', 'web', '--label', 'kubernetes.io/role=web', '--sandbox', '--json', '--yes'], { home: h });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ type: 'UserError', field: '--label' });
    await expectNoWrite(h);
  });

  it.each([['0'], ['65']])('--imds-hop-limit %s: exit 2 naming the flag', async (n) => {
    const h = home();
    const r = await runCliInProcess(['cluster', 'create', 'hop', '--imds-hop-limit', n, '--sandbox', '--json', '--yes'], { home: h });
    expect(r.code).toBe(2);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({ type: 'UserError', field: '--imds-hop-limit' });
    expect(error.message).toMatch(/1-64/);
    await expectNoWrite(h);
  });

  it('accepts --imds-hop-limit 2 (dry run)', async () => {
    const r = await runCliInProcess(['cluster', 'create', 'hop', '--imds-hop-limit', '2', '--dry-run', '--sandbox', '--json'], { home: home() });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.planned.filter((c: { type: string }) => c.type === 'AWS::EC2::LaunchTemplate')).toHaveLength(2);
  });
});
