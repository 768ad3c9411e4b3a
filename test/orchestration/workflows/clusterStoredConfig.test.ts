// Sandbox integration: the stored configuration's layout. Settings in /k3sctl/clusters/NAME/config,
// each group in /k3sctl/clusters/NAME/groups/GROUP: a cluster of many groups fits (each parameter is
// checked against 4096 characters on its own), reads are one paginated GetParametersByPath, and a
// version-1 configuration (groups inline) is read and rewritten in the new layout by the next write.
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { buildClusterSpec, buildGroupSpec } from '../../../src/config/cluster';
import { names } from '../../../src/aws/names';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterList } from '../../../src/orchestration/workflows/clusterList';
import { readClusterConfig } from '../../../src/model/read';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { deleteParameters } from '../../../src/resources/ssmParameter';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

describe('stored cluster configuration', () => {
  it('plans a cluster of 22 groups (each group its own parameter) without a write', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const base = buildClusterSpec({ name: 'wide', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    const extra = Array.from({ length: 20 }, (_, i) => buildGroupSpec({ name: `ng${i}`, role: 'node', count: 50 }, { k3sVersion: base.k3sVersion }));
    const planned = await clusterCreate(deps, { ...base, groups: [...base.groups, ...extra] }, { dryRun: true });
    expect(planned.planned.filter((c) => c.type === 'AWS::SSM::Parameter').map((c) => c.name)).toEqual(
      expect.arrayContaining(['/k3sctl/clusters/wide/config', '/k3sctl/clusters/wide/groups/ng0', '/k3sctl/clusters/wide/groups/ng19']),
    );
    expect(deps.clients.calls.write).toBe(0);
  });

  it('reads a version-1 configuration and moves its groups to their own parameters on the next write', async () => {
    const sb = new Sandbox();
    const home = sandboxDeps(sb).home;
    const next = () => sandboxDeps(sb, { home }).deps;
    const spec = buildClusterSpec({ name: 'old', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    await clusterCreate(next(), spec, { wait: false });
    // What an earlier k3sctl stored: one parameter, groups inline.
    const current = (await readClusterConfig(next().clients, 'old'))!;
    const c = next().clients;
    await c.ssm.send(new PutParameterCommand({ Name: names.ssmConfig('old'), Type: 'String', Overwrite: true, Value: JSON.stringify({ ...current, version: 1 }) }));
    await deleteParameters(c, [names.ssmGroupConfig('old', 'control-plane'), names.ssmGroupConfig('old', 'nodes')]);

    expect((await readClusterConfig(next().clients, 'old'))!.groups.map((g) => g.name)).toEqual(['control-plane', 'nodes']);
    const listed = await clusterList(next());
    expect(listed.clusters).toEqual([expect.objectContaining({ name: 'old', status: 'ok', groups: expect.arrayContaining([expect.objectContaining({ name: 'nodes' })]) })]);

    await groupAdd(next(), 'old', buildGroupSpec({ name: 'more', role: 'node', count: 1 }), { wait: false });
    const settings = JSON.parse((await c.ssm.send(new GetParameterCommand({ Name: names.ssmConfig('old') }))).Parameter!.Value!);
    expect(settings.version).toBe(2);
    expect(settings.groups).toBeUndefined();
    for (const g of ['control-plane', 'nodes', 'more']) {
      const p = (await c.ssm.send(new GetParameterCommand({ Name: names.ssmGroupConfig('old', g) }))).Parameter!;
      expect(JSON.parse(p.Value!).name).toBe(g);
    }
    expect((await readClusterConfig(next().clients, 'old'))!.groups.map((g) => g.name)).toEqual(['control-plane', 'more', 'nodes']);
    // Converged: cluster create (which keeps added groups) writes nothing.
    expect((await clusterCreate(next(), spec, { wait: false })).apiCalls.write).toBe(0);
  });
});
