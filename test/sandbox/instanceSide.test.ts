// The sandbox's instance side writes what the real instance scripts write: the election's claim of the
// `initialized` parameter, then the marker (when the server turned Ready), and for `bootstrapFails`
// instances the reason parameter and an Unhealthy status (SetInstanceHealth, also served as an API).
import { DescribeAutoScalingGroupsCommand, SetInstanceHealthCommand } from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { buildClusterSpec } from '../../src/config/cluster';
import { names } from '../../src/aws/names';
import { clusterCreate } from '../../src/orchestration/workflows/clusterCreate';
import { Sandbox } from '../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

describe('sandbox instance side', () => {
  it('claims the election when the first control plane starts, records initialized when it is Ready', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    await clusterCreate(deps, buildClusterSpec({ name: 'elect', region: 'us-east-1', controlPlanes: 3, nodes: 0 }), { wait: false });
    const read = async () => (await deps.clients.ssm.send(new GetParameterCommand({ Name: names.ssmInitialized('elect') }))).Parameter!;
    // Running (boot 35 s, plus the group's first launch) but not Ready yet (k3s 45 s later).
    sb.advance(60_000);
    const claim = await read();
    expect(claim.Value).toMatch(/^claimed-by=i-[0-9a-f]{17} at=/);
    sb.advance(60_000);
    const done = await read();
    expect(done.Value).toMatch(/^initialized-by=i-[0-9a-f]{17} at=/);
    expect(done.Version).toBe(2);
    sb.advance(60_000);
    expect((await read()).Version).toBe(2);
  });

  it('records initialized, and bootstrap failures with an Unhealthy status', async () => {
    const sb = new Sandbox({ behavior: { bootstrapFails: ['k3sctl-side-nodes'] } });
    const { deps } = sandboxDeps(sb);
    await clusterCreate(deps, buildClusterSpec({ name: 'side', region: 'us-east-1', controlPlanes: 3, nodes: 1 }), { wait: false });
    sb.advance(90_000);
    const c = deps.clients;
    const marker = (await c.ssm.send(new GetParameterCommand({ Name: names.ssmInitialized('side') }))).Parameter!;
    const groups = (await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-side-control-plane', 'k3sctl-side-nodes'] }))).AutoScalingGroups!;
    const servers = groups.find((g) => g.AutoScalingGroupName === 'k3sctl-side-control-plane')!.Instances!;
    expect(servers.map((i) => i.InstanceId)).toContain(/^initialized-by=(i-[0-9a-f]{17}) /.exec(marker.Value!)![1]);
    expect(servers.every((i) => i.HealthStatus === 'Healthy')).toBe(true);
    const node = groups.find((g) => g.AutoScalingGroupName === 'k3sctl-side-nodes')!.Instances![0];
    expect(node.HealthStatus).toBe('Unhealthy');
    const reason = await c.ssm.send(new GetParameterCommand({ Name: `${names.ssmBootstrapFailures('side')}/${node.InstanceId}` }));
    expect(reason.Parameter).toMatchObject({ Type: 'String', Value: expect.stringMatching(/^k3sctl-bootstrap: k3s agent did not join cluster side/) });
  });

  it('serves SetInstanceHealth for group members', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    await clusterCreate(deps, buildClusterSpec({ name: 'hlth', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
    const c = deps.clients;
    const describe = async () =>
      (await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-hlth-nodes'] }))).AutoScalingGroups![0].Instances!;
    const [node] = await describe();
    await c.autoscaling.send(new SetInstanceHealthCommand({ InstanceId: node.InstanceId, HealthStatus: 'Unhealthy' }));
    expect((await describe()).find((i) => i.InstanceId === node.InstanceId)?.HealthStatus).toBe('Unhealthy');
    await expect(c.autoscaling.send(new SetInstanceHealthCommand({ InstanceId: 'i-0123456789abcdef0', HealthStatus: 'Unhealthy' }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
