// CLI end to end: the commands in process through oclif (test/helpers/inProcessCli.ts) against the
// sandbox with a temporary K3SCTL_HOME (no TTY, CI set): create (flags and -f file), re-run without
// writes, describe, list, bad input, delete.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const home = tempHomes();

describe('k3sctl cluster (CLI, sandbox)', () => {
  it('creates, describes, lists and deletes a cluster', async () => {
    const h = home();
    const file = path.join(h, 'cluster.yaml');
    fs.writeFileSync(file, 'name: demo\ncontrolPlanes: 1\nnodes: 3\nsshCidrs: [203.0.113.0/24]\n');
    const created = await runCliInProcess(['cluster', 'create', '--sandbox', '--json', '-f', file, '--nodes', '1'], { home: h });
    expect(created.code).toBe(0);
    const result = JSON.parse(created.stdout);
    expect(result.run).toBeTruthy();
    expect(result.apiCalls.write).toBeGreaterThan(0);
    expect(result.groups).toEqual([
      expect.objectContaining({ name: 'control-plane', desired: 1 }),
      expect.objectContaining({ name: 'nodes', desired: 1 }),
    ]);
    expect(result.changes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'create', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-demo-nodes' })]));
    // The join tokens (in the sandbox's saved state) appear nowhere in the output or the run journal.
    const state = fs.readFileSync(path.join(h, 'sandbox', 'state.json'), 'utf8');
    const tokens = [...state.matchAll(/"Name":"\/k3sctl\/clusters\/demo\/(?:server|agent)-token"[^}]*?"Value":"([0-9a-f]{64})"/g)].map((m) => m[1]);
    expect(tokens).toHaveLength(2);
    const journals = fs.readdirSync(path.join(h, 'runs')).map((f) => fs.readFileSync(path.join(h, 'runs', f), 'utf8')).join('');
    for (const t of tokens) expect(created.stdout + created.stderr + journals).not.toContain(t);

    const again = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--json', '--control-planes', '1', '--nodes', '1', '--ssh-cidr', '203.0.113.0/24'], { home: h });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).apiCalls.write).toBe(0);

    const described = await runCliInProcess(['cluster', 'describe', 'demo', '--sandbox', '--json'], { home: h });
    expect(described.code).toBe(0);
    const d = JSON.parse(described.stdout);
    expect(d).toMatchObject({ name: 'demo', region: 'us-east-1', ingress: null });
    expect(d.groups).toHaveLength(2);
    expect(d.groups[0].instances[0]).toEqual(
      expect.objectContaining({ state: 'running', lifecycleState: 'InService', upToDate: true, launchTemplateVersion: '1' }),
    );

    const listed = await runCliInProcess(['cluster', 'list', '--sandbox', '--json'], { home: h });
    expect(JSON.parse(listed.stdout).clusters.map((c: { name: string }) => c.name)).toEqual(['demo']);
    const table = await runCliInProcess(['nodegroup', 'list', 'demo', '--sandbox'], { home: h });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/nodes\s+node/);

    const noYes = await runCliInProcess(['cluster', 'delete', 'demo', '--sandbox', '--json'], { home: h });
    expect(noYes.code).toBe(2);
    const dry = await runCliInProcess(['cluster', 'delete', 'demo', '--sandbox', '--dry-run'], { home: h });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/- delete/);

    const deleted = await runCliInProcess(['cluster', 'delete', 'demo', '--sandbox', '--json', '--yes'], { home: h });
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout).changes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'delete', type: 'AWS::EC2::SecurityGroup' })]));
    const gone = await runCliInProcess(['cluster', 'describe', 'demo', '--sandbox', '--json'], { home: h });
    expect(gone.code).toBe(2);
    const status = JSON.parse((await runCliInProcess(['sandbox', 'status', '--json'], { home: h })).stdout);
    expect(Object.keys(status.resources).filter((t) => t !== 'AWS::EC2::Instance')).toEqual([]);
  }, 180_000);

  it('rejects bad input with exit 2 and the field, without writing', async () => {
    const h = home();
    const bad = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--json', '--control-planes', '2'], { home: h });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ type: 'UserError', field: '--control-planes' });
    const file = path.join(h, 'bad.yaml');
    fs.writeFileSync(file, 'name: demo\nworkers: 3\n');
    const unknown = await runCliInProcess(['cluster', 'create', '--sandbox', '--json', '-f', file], { home: h });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.message).toMatch(/workers/);
    const type = await runCliInProcess(['cluster', 'create', 'demo', '--sandbox', '--json', '--node-type', 't3.gigantic'], { home: h });
    expect(type.code).toBe(2);
    const status = JSON.parse((await runCliInProcess(['sandbox', 'status', '--json'], { home: h })).stdout);
    expect(status.calls.write).toBe(0);
  }, 120_000);
});
