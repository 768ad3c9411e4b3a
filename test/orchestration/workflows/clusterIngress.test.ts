// Sandbox integration: `cluster create --ingress-alb shared --ingress-zone example.com` creates the
// cluster's ingress target group (attached to every group) and the `*--NAME.REGION.ZONE` rule on the
// ALB's 443 listener; re-runs write nothing; delete removes both and leaves the shared ALB alone.
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec } from '../../../src/config/cluster';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, next } from './endpointFixture';

afterAll(() => removeTestHomes());

describe('cluster automatic ingress', () => {
  it('creates and deletes the target group and listener rule', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const spec = buildClusterSpec({ name: 'ing', region: 'us-east-1', controlPlanes: 1, nodes: 2, ingress: { alb: 'shared', zone: 'example.com' } });
    const created = await clusterCreate(next(sb), spec);
    expect(created.ingressHost).toBe('*--ing.us-east-1.example.com');

    const deps = next(sb);
    const tg = await findTargetGroupByName(deps.clients, 'k3s-ing-ing');
    expect(tg).toBeDefined();
    const groups = (await deps.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-ing-control-plane', 'k3sctl-ing-nodes'] })))
      .AutoScalingGroups!;
    for (const g of groups) expect(g.TargetGroupARNs).toEqual([tg!.arn]);
    const lb = await findLoadBalancer(deps.clients, 'shared');
    const listener = await findHttpsListener(deps.clients, lb.arn);
    const rules = (await deps.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
    const rule = rules.find((r) => r.Conditions?.some((c) => c.Values?.includes('*--ing.us-east-1.example.com') || c.HostHeaderConfig?.Values?.includes('*--ing.us-east-1.example.com')));
    expect(rule).toBeDefined();
    expect(JSON.stringify(rule!.Actions)).toContain(tg!.arn);

    // Instances join the ALB's downstream security group besides the cluster's own.
    const lt = (await deps.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'k3sctl-ing-nodes', Versions: ['$Default'] })))
      .LaunchTemplateVersions![0].LaunchTemplateData!;
    expect(lt.SecurityGroupIds).toHaveLength(2);

    const again = await clusterCreate(next(sb), spec);
    expect(again.apiCalls.write).toBe(0);
    expect((await clusterDescribe(next(sb), 'ing')).ingress).toMatchObject({ host: '*--ing.us-east-1.example.com', alb: 'shared' });

    const deleted = await clusterDelete(next(sb), 'ing');
    expect(deleted.changes.filter((c) => c.action === 'delete').map((c) => c.type)).toEqual(
      expect.arrayContaining(['AWS::ElasticLoadBalancingV2::ListenerRule', 'AWS::ElasticLoadBalancingV2::TargetGroup']),
    );
    const after = next(sb);
    expect(await findTargetGroupByName(after.clients, 'k3s-ing-ing')).toBeUndefined();
    const left = (await after.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
    expect(left.filter((r) => !r.IsDefault)).toEqual([]);
    expect(await findLoadBalancer(after.clients, 'shared')).toMatchObject({ name: 'shared' });
  });
});
