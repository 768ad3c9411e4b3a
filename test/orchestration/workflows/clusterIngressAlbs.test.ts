// Sandbox integration: the automatic ingress on several ALBs (the seed's list of cluster target groups).
// Each ALB gets the cluster's `*--NAME.REGION.ZONE` rule forwarding to a target group of its own, every
// group is attached to all of them; an ALB dropped from --ingress-alb loses its rule and target group in
// the run that drops it, an ALB added takes a free target group name; endpoints use the cluster's target
// group on their own ALB; cluster delete removes every one.
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateSecurityGroupCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec } from '../../../src/config/cluster';
import { buildEndpointSpec } from '../../../src/config/ingress';
import { UserError } from '../../../src/core/errors';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { readClusterConfig } from '../../../src/model/read';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, next } from './endpointFixture';

afterAll(() => removeTestHomes());

const HOST = '*--multi.us-east-1.example.com';
const spec = (albs: string[]) =>
  buildClusterSpec({ name: 'multi', region: 'us-east-1', controlPlanes: 1, nodes: 1, ingress: { alb: albs, zone: 'example.com' } });

async function setUp(): Promise<Sandbox> {
  const sb = new Sandbox();
  const cert = await createCertificate(sb);
  await createAlb(sb, cert, 'shared');
  await createAlb(sb, cert, 'second');
  return sb;
}

/** The cluster's rule on an ALB's HTTPS listener (its forward target group ARNs), or undefined. */
async function ruleOn(sb: Sandbox, alb: string): Promise<string[] | undefined> {
  const deps = next(sb);
  const listener = await findHttpsListener(deps.clients, (await findLoadBalancer(deps.clients, alb)).arn);
  const rules = (await deps.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
  const rule = rules.find((r) => r.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes(HOST) || c.Values?.includes(HOST)));
  return rule ? rule.Actions!.flatMap((a) => [a.TargetGroupArn, ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn)]).filter((a): a is string => !!a).filter((a, i, all) => all.indexOf(a) === i) : undefined;
}

async function groupTargetGroups(sb: Sandbox): Promise<string[][]> {
  const res = await next(sb).clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-multi-control-plane', 'k3sctl-multi-nodes'] }));
  return res.AutoScalingGroups!.map((g) => [...(g.TargetGroupARNs ?? [])].sort());
}

async function tgArn(sb: Sandbox, name: string): Promise<string | undefined> {
  return (await findTargetGroupByName(next(sb).clients, name))?.arn;
}

describe('cluster ingress on several ALBs', () => {
  it('puts a rule and a target group of its own on each ALB; re-runs, in any order, write nothing', async () => {
    const sb = await setUp();
    const created = await clusterCreate(next(sb), spec(['shared', 'second']));
    const tgs = created.changes.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::TargetGroup' && c.action === 'create').map((c) => c.name);
    expect(tgs.sort()).toEqual(['k3s-multi-ing', 'k3s-multi-ing2']);

    const first = await tgArn(sb, 'k3s-multi-ing');
    const second = await tgArn(sb, 'k3s-multi-ing2');
    expect(await ruleOn(sb, 'shared')).toEqual([first]);
    expect(await ruleOn(sb, 'second')).toEqual([second]);
    for (const arns of await groupTargetGroups(sb)) expect(arns).toEqual([first, second].sort());

    // The instances join both ALBs' downstream security groups besides the cluster's own.
    const lt = (await next(sb).clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'k3sctl-multi-nodes', Versions: ['$Default'] })))
      .LaunchTemplateVersions![0]!.LaunchTemplateData!;
    expect(new Set(lt.SecurityGroupIds).size).toBe(3);

    const described = (await clusterDescribe(next(sb), 'multi')).ingress!;
    expect(described.albs).toEqual([
      { alb: 'shared', targetGroup: 'k3s-multi-ing' },
      { alb: 'second', targetGroup: 'k3s-multi-ing2' },
    ]);
    expect(described).toMatchObject({ alb: 'shared', targetGroup: 'k3s-multi-ing', host: HOST });

    expect((await clusterCreate(next(sb), spec(['shared', 'second']))).apiCalls.write).toBe(0);
    // An ALB keeps its target group whatever the order: reversing the list changes nothing.
    expect((await clusterCreate(next(sb), spec(['second', 'shared']))).apiCalls.write).toBe(0);
    // Without ingress flags the ingress is kept, like groups the spec does not name.
    const without = buildClusterSpec({ name: 'multi', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    expect((await clusterCreate(next(sb), without)).apiCalls.write).toBe(0);

    const deleted = await clusterDelete(next(sb), 'multi');
    const gone = deleted.changes.filter((c) => c.action === 'delete');
    expect(gone.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::TargetGroup').map((c) => c.name).sort()).toEqual(['k3s-multi-ing', 'k3s-multi-ing2']);
    expect(gone.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::ListenerRule')).toHaveLength(2);
    expect(await ruleOn(sb, 'shared')).toBeUndefined();
    expect(await ruleOn(sb, 'second')).toBeUndefined();
    expect(await tgArn(sb, 'k3s-multi-ing')).toBeUndefined();
    expect(await tgArn(sb, 'k3s-multi-ing2')).toBeUndefined();
  });

  it('drops an ALB: its rule and target group go in that run, the other ALB is untouched; adding it back takes the free name', async () => {
    const sb = await setUp();
    const created = await clusterCreate(next(sb), spec(['shared', 'second']));
    const second = await tgArn(sb, 'k3s-multi-ing2');
    // Slot 1's rule is named by its host alone, the second ALB's with its ALB: the plan deletes by those names.
    const rules = created.changes.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::ListenerRule').map((c) => c.name).sort();
    expect(rules).toEqual([HOST, `${HOST} on second`]);

    const dry = await clusterCreate(next(sb), spec(['second']), { dryRun: true });
    expect(dry.apiCalls.write).toBe(0);
    expect(dry.planned.filter((c) => c.action === 'delete').map((c) => `${c.type} ${c.name}`)).toEqual([
      `AWS::ElasticLoadBalancingV2::ListenerRule ${HOST}`,
      'AWS::ElasticLoadBalancingV2::TargetGroup k3s-multi-ing',
    ]);
    expect(await ruleOn(sb, 'shared')).toBeDefined();

    const dropped = await clusterCreate(next(sb), spec(['second']));
    expect(dropped.changes.filter((c) => c.action === 'delete').map((c) => c.type).sort()).toEqual([
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
    ]);
    expect(await ruleOn(sb, 'shared')).toBeUndefined();
    expect(await tgArn(sb, 'k3s-multi-ing')).toBeUndefined();
    expect(await ruleOn(sb, 'second')).toEqual([second]);
    expect(await tgArn(sb, 'k3s-multi-ing2')).toBe(second);
    for (const arns of await groupTargetGroups(sb)) expect(arns).toEqual([second]);
    // The stored configuration keeps the second ALB's target group name (a single ALB not on slot 1).
    expect((await readClusterConfig(next(sb).clients, 'multi'))!.ingress!.albs.map((a) => [a.albName, a.targetGroupName])).toEqual([['second', 'k3s-multi-ing2']]);
    // Leaving the ALB's security group is a launch template change: the instances are out of date.
    expect(dropped.outOfDate.length).toBeGreaterThan(0);
    expect((await clusterCreate(next(sb), spec(['second']))).apiCalls.write).toBe(0);

    const back = await clusterCreate(next(sb), spec(['second', 'shared']));
    expect(back.changes.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::TargetGroup' && c.action === 'create').map((c) => c.name)).toEqual(['k3s-multi-ing']);
    expect(await ruleOn(sb, 'shared')).toEqual([await tgArn(sb, 'k3s-multi-ing')]);
    expect(await tgArn(sb, 'k3s-multi-ing2')).toBe(second);
  });

  it('an endpoint uses the cluster target group on its own ALB, and dropping that ALB is refused (exit 2, no write) while the endpoint forwards there', async () => {
    const sb = await setUp();
    await clusterCreate(next(sb), spec(['shared', 'second']));
    const second = await tgArn(sb, 'k3s-multi-ing2');
    const endpoint = await endpointCreate(next(sb), buildEndpointSpec({ service: 'blog', zone: 'example.com', alb: 'second', clusters: ['multi'] }));
    expect(JSON.stringify(endpoint)).toContain(second);

    const refused = await clusterCreate(next(sb), spec(['shared'])).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).message).toMatch(/endpoint\(s\) blog \(blog\.example\.com\) forward to multi's target group on an ALB the run would drop \(second\)/);
    expect((refused as UserError).field).toBe('--ingress-alb');
    expect(await ruleOn(sb, 'second')).toEqual([second]);
    expect((await readClusterConfig(next(sb).clients, 'multi'))!.ingress!.albs).toHaveLength(2);
  });

  it('an endpoint on an ALB the cluster is not on names the ALBs it is on (exit 2)', async () => {
    const sb = await setUp();
    await clusterCreate(next(sb), spec(['shared']));
    const error = await endpointCreate(next(sb), buildEndpointSpec({ service: 'blog', zone: 'example.com', alb: 'second', clusters: ['multi'] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe("cluster multi's ingress is on ALB(s) shared, not on second");
    expect((error as UserError).field).toBe('--cluster');
  });

  it('a failure after the dropped ALB lost its rule rolls the rest back; the next run finishes the drop', async () => {
    const sb = await setUp();
    await clusterCreate(next(sb), spec(['shared', 'second']));
    const first = await tgArn(sb, 'k3s-multi-ing');
    const second = await tgArn(sb, 'k3s-multi-ing2');
    // The groups' detach of the dropped target group fails.
    sb.faults.add({ op: 'DetachLoadBalancerTargetGroups', nth: 1, code: 'AccessDenied' });
    await expect(clusterCreate(next(sb), spec(['second']))).rejects.toThrow();
    // The rule stays deleted (what the user asked to remove); the target group is still attached and the
    // stored configuration still names both ALBs.
    expect(await ruleOn(sb, 'shared')).toBeUndefined();
    expect(await tgArn(sb, 'k3s-multi-ing')).toBe(first);
    for (const arns of await groupTargetGroups(sb)) expect(arns).toEqual([first, second].sort());
    expect((await readClusterConfig(next(sb).clients, 'multi'))!.ingress!.albs).toHaveLength(2);

    const again = await clusterCreate(next(sb), spec(['second']));
    expect(again.changes.filter((c) => c.action === 'delete').map((c) => c.type)).toEqual(['AWS::ElasticLoadBalancingV2::TargetGroup']);
    expect(await tgArn(sb, 'k3s-multi-ing')).toBeUndefined();
    for (const arns of await groupTargetGroups(sb)) expect(arns).toEqual([second]);
  });

  it('counts every ALB\'s downstream security group against the 5 a network interface takes (exit 2, no write)', async () => {
    const sb = await setUp();
    const deps = next(sb);
    const vpcId = (await findLoadBalancer(deps.clients, 'shared')).vpcId;
    for (const name of ['extra-1', 'extra-2', 'extra-3']) {
      await deps.clients.ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "the user's", VpcId: vpcId }));
    }
    const withExtras = (albs: string[], extras: string[]) =>
      buildClusterSpec({ name: 'multi', region: 'us-east-1', controlPlanes: 1, nodes: 1, nodeSecurityGroups: extras, ingress: { alb: albs, zone: 'example.com' } });
    // The cluster's own + 2 ALB groups + 3 extra = 6.
    const run = next(sb);
    const error = await clusterCreate(run, withExtras(['shared', 'second'], ['extra-1', 'extra-2', 'extra-3'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/3 extra security groups, but at most 2 are allowed: .* the downstream groups of 2 ALBs/);
    expect((error as UserError).field).toBe('--node-security-group');
    expect(run.clients.calls.write).toBe(0);
    // With one ALB they fit (1 + 1 + 3 = 5).
    await clusterCreate(next(sb), withExtras(['shared'], ['extra-1', 'extra-2', 'extra-3']));
    const lt = (await next(sb).clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'k3sctl-multi-nodes', Versions: ['$Default'] })))
      .LaunchTemplateVersions![0]!.LaunchTemplateData!;
    expect(new Set(lt.SecurityGroupIds).size).toBe(5);
  });
});
