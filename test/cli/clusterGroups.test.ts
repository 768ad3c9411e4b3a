// CLI end to end: controlplane add, nodegroup add / scale / list / delete against the sandbox.
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const newHome = tempHomes();

describe('k3sctl nodegroup / controlplane (CLI, sandbox)', () => {
  it('adds, scales, lists and deletes groups', async () => {
    const home = newHome();
    const cli = (...args: string[]) => runCliInProcess([...args, '--sandbox', '--json'], { home });
    expect((await cli('cluster', 'create', 'grp', '--control-planes', '1', '--nodes', '1')).code).toBe(0);

    const added = await cli('nodegroup', 'add', 'grp', 'batch', '--nodes', '2', '--node-type', 't3.large', '--spot', '--label', 'tier=batch', '--taint', 'batch=true:NoSchedule');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ group: 'batch', role: 'node', desired: 2 });
    const cp = await cli('controlplane', 'add', 'grp', 'cp-b', '--control-planes', '1');
    expect(cp.code).toBe(0);
    const even = await cli('controlplane', 'add', 'grp', 'cp-c', '--control-planes', '2');
    expect(even.code).toBe(2);
    expect(JSON.parse(even.stdout).error.field).toBe('--control-planes');

    const scaled = await cli('nodegroup', 'scale', 'grp', 'batch', '--nodes', '3');
    expect(scaled.code).toBe(0);
    const listed = JSON.parse((await cli('nodegroup', 'list', 'grp')).stdout);
    expect(listed.groups.map((g: { name: string; desired: number }) => [g.name, g.desired])).toEqual([
      ['control-plane', 1],
      ['cp-b', 1],
      ['batch', 3],
      ['nodes', 1],
    ]);

    expect((await cli('nodegroup', 'delete', 'grp', 'batch')).code).toBe(2);
    const deleted = await cli('nodegroup', 'delete', 'grp', 'batch', '--yes');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout).changes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'delete', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-grp-batch' })]));
    const after = JSON.parse((await cli('nodegroup', 'list', 'grp')).stdout);
    expect(after.groups.map((g: { name: string }) => g.name)).toEqual(['control-plane', 'cp-b', 'nodes']);
  }, 180_000);
});
