// Sandbox integration: the IMDSv2 hop limit of a cluster's launch templates. 1 by default (pods cannot
// reach the node role's credentials), raised per cluster or group, stored in each group's declaration;
// a change is a new launch template version (instances out of date until recycled) and a re-run writes
// nothing. Groups stored before the setting existed (hop limit 2) keep it through `nodegroup scale` and
// converge to 1 on the next `cluster create`.
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { buildClusterSpec, buildGroupSpec } from '../../../src/config/cluster';
import { names } from '../../../src/aws/names';
import type { AwsClients } from '../../../src/aws/clients';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { nodegroupScale } from '../../../src/orchestration/workflows/nodegroupScale';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

async function hopLimit(c: AwsClients, template: string): Promise<number | undefined> {
  const v = (await c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: template, Versions: ['$Default'] }))).LaunchTemplateVersions![0];
  return v.LaunchTemplateData!.MetadataOptions!.HttpPutResponseHopLimit;
}

async function storedGroup(c: AwsClients, cluster: string, group: string): Promise<Record<string, unknown>> {
  return JSON.parse((await c.ssm.send(new GetParameterCommand({ Name: names.ssmGroupConfig(cluster, group) }))).Parameter!.Value!);
}

describe('IMDSv2 hop limit', () => {
  it('is 1 by default, raised by imdsHopLimit with a new launch template version, stored per group', async () => {
    const sb = new Sandbox();
    const home = sandboxDeps(sb).home;
    const next = () => sandboxDeps(sb, { home }).deps;
    const spec = (extra: { imdsHopLimit?: number } = {}) => buildClusterSpec({ name: 'hop', region: 'us-east-1', controlPlanes: 1, nodes: 1, ...extra });
    await clusterCreate(next(), spec());
    const c = next().clients;
    expect(await hopLimit(c, 'k3sctl-hop-control-plane')).toBe(1);
    expect(await hopLimit(c, 'k3sctl-hop-nodes')).toBe(1);
    expect(await storedGroup(c, 'hop', 'nodes')).toMatchObject({ imdsHopLimit: 1 });

    // The plan names the field; the dry run writes nothing.
    const dry = next();
    const planned = await clusterCreate(dry, spec({ imdsHopLimit: 2 }), { dryRun: true });
    expect(dry.clients.calls.write).toBe(0);
    expect(planned.planned.filter((p) => p.type === 'AWS::EC2::LaunchTemplate')).toEqual([
      expect.objectContaining({ action: 'update', name: 'k3sctl-hop-control-plane', details: ['imdsHopLimit: 1 -> 2'] }),
      expect.objectContaining({ action: 'update', name: 'k3sctl-hop-nodes', details: ['imdsHopLimit: 1 -> 2'] }),
    ]);

    const raised = await clusterCreate(next(), spec({ imdsHopLimit: 2 }));
    // Each group: declaration, launch template (new default version) and the group pinned to it.
    expect(raised.changes.filter((ch) => ch.action === 'update').map((ch) => `${ch.type} ${ch.name}`).sort()).toEqual([
      'AWS::AutoScaling::AutoScalingGroup k3sctl-hop-control-plane',
      'AWS::AutoScaling::AutoScalingGroup k3sctl-hop-nodes',
      'AWS::EC2::LaunchTemplate k3sctl-hop-control-plane',
      'AWS::EC2::LaunchTemplate k3sctl-hop-nodes',
      'AWS::SSM::Parameter /k3sctl/clusters/hop/groups/control-plane',
      'AWS::SSM::Parameter /k3sctl/clusters/hop/groups/nodes',
    ]);
    expect(raised.outOfDate.map((o) => o.group).sort()).toEqual(['control-plane', 'nodes']);
    expect(await hopLimit(c, 'k3sctl-hop-nodes')).toBe(2);
    expect(await storedGroup(c, 'hop', 'control-plane')).toMatchObject({ imdsHopLimit: 2 });
    expect((await clusterCreate(next(), spec({ imdsHopLimit: 2 }))).apiCalls.write).toBe(0);

    // A group of its own: set on add, kept by cluster create, changed by re-adding it.
    const group = (imdsHopLimit?: number) => buildGroupSpec({ name: 'pods', role: 'node', count: 1, imdsHopLimit });
    await groupAdd(next(), 'hop', group(3), { wait: false });
    expect(await hopLimit(c, 'k3sctl-hop-pods')).toBe(3);
    expect((await groupAdd(next(), 'hop', group(3), { wait: false })).apiCalls.write).toBe(0);
    expect((await clusterCreate(next(), spec({ imdsHopLimit: 2 }), { wait: false })).apiCalls.write).toBe(0);
    const lowered = await groupAdd(next(), 'hop', group(), { wait: false });
    expect(lowered.planned.find((p) => p.type === 'AWS::EC2::LaunchTemplate')).toMatchObject({ action: 'update', details: ['imdsHopLimit: 3 -> 1'] });
    expect(await hopLimit(c, 'k3sctl-hop-pods')).toBe(1);
  });

  it('converges a cluster made before the setting (hop limit 2, not stored) to 1 on the next create', async () => {
    const sb = new Sandbox();
    const home = sandboxDeps(sb).home;
    const next = () => sandboxDeps(sb, { home }).deps;
    // What an earlier k3sctl left: launch templates with hop limit 2, group declarations without the field.
    await clusterCreate(next(), buildClusterSpec({ name: 'old', region: 'us-east-1', controlPlanes: 1, nodes: 1, imdsHopLimit: 2 }));
    await groupAdd(next(), 'old', buildGroupSpec({ name: 'extra', role: 'node', count: 1, imdsHopLimit: 2 }));
    const c = next().clients;
    for (const g of ['control-plane', 'nodes', 'extra']) {
      const { imdsHopLimit: _dropped, ...legacy } = await storedGroup(c, 'old', g);
      await c.ssm.send(new PutParameterCommand({ Name: names.ssmGroupConfig('old', g), Type: 'String', Overwrite: true, Value: JSON.stringify(legacy) }));
    }

    // Scaling such a group changes its capacity only: no new launch template version on the way.
    const scaled = await nodegroupScale(next(), 'old', 'extra', 2);
    expect(scaled.changes.filter((ch) => ch.action !== 'noop').map((ch) => ch.type).sort()).toEqual(['AWS::AutoScaling::AutoScalingGroup', 'AWS::SSM::Parameter']);
    expect(await hopLimit(c, 'k3sctl-old-extra')).toBe(2);

    const converged = await clusterCreate(next(), buildClusterSpec({ name: 'old', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
    const lts = converged.changes.filter((ch) => ch.type === 'AWS::EC2::LaunchTemplate' && ch.action === 'update').map((ch) => ch.name);
    expect([...new Set(lts)].sort()).toEqual(['k3sctl-old-control-plane', 'k3sctl-old-extra', 'k3sctl-old-nodes']);
    for (const g of ['control-plane', 'nodes', 'extra']) {
      expect(await hopLimit(c, `k3sctl-old-${g}`)).toBe(1);
      expect(await storedGroup(c, 'old', g)).toMatchObject({ imdsHopLimit: 1 });
    }
    // Running instances keep hop limit 2 until replaced: reported for `k3sctl recycle`.
    expect([...new Set(converged.outOfDate.map((o) => o.group))].sort()).toEqual(['control-plane', 'extra', 'nodes']);
    expect((await clusterCreate(next(), buildClusterSpec({ name: 'old', region: 'us-east-1', controlPlanes: 1, nodes: 1 }))).apiCalls.write).toBe(0);
  });
});
