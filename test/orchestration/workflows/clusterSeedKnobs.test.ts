// Sandbox integration of the seed modules' knobs (issue 17, part A): the ingress target group's
// deregistration delay (default 60 s, changed in place, restored by rollback, allowed for by recycle's
// drain gate), the ingress rule's source CIDRs (a `source-ip` condition changed in place with ModifyRule),
// and per-group CPU credits (a launch template CreditSpecification; a change is a new version that
// recycle rolls out). Every assertion reads what the account holds afterwards.
import {
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { ModifyTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeInstanceCreditSpecificationsCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec, buildGroupSpec, type ClusterFile } from '../../../src/config/cluster';
import { RunFailedError, type WorkflowDeps } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { recycle } from '../../../src/orchestration/workflows/recycle';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, next } from './endpointFixture';

jest.setTimeout(120_000);
afterAll(() => removeTestHomes());

const HOST = '*--knob.us-east-1.example.com';
const TG = 'k3s-knob-ing';

function spec(more: Partial<ClusterFile> & { ingress?: ClusterFile['ingress'] } = {}) {
  return buildClusterSpec({ name: 'knob', region: 'us-east-1', controlPlanes: 1, nodes: 1, ingress: { alb: 'shared', zone: 'example.com' }, ...more });
}

async function deregistrationDelay(deps: WorkflowDeps): Promise<string | undefined> {
  const tg = await findTargetGroupByName(deps.clients, TG);
  const attrs = await deps.clients.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg!.arn }));
  return attrs.Attributes!.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
}

async function ingressRule(deps: WorkflowDeps): Promise<Rule> {
  const lb = await findLoadBalancer(deps.clients, 'shared');
  const listener = await findHttpsListener(deps.clients, lb.arn);
  const rules = (await deps.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
  const rule = rules.find((r) => r.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes(HOST) || c.Values?.includes(HOST)));
  if (!rule) throw new Error(`no rule for ${HOST}`);
  return rule;
}

function sourceIps(rule: Rule): string[] {
  const c = rule.Conditions!.find((x) => x.Field === 'source-ip');
  return [...(c?.SourceIpConfig?.Values ?? c?.Values ?? [])].sort();
}

async function launchTemplateCredits(deps: WorkflowDeps, group: string): Promise<string | undefined> {
  const v = await deps.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: `k3sctl-knob-${group}`, Versions: ['$Default'] }));
  return v.LaunchTemplateVersions![0].LaunchTemplateData!.CreditSpecification?.CpuCredits;
}

async function instanceCredits(deps: WorkflowDeps, group: string): Promise<string[]> {
  const g = (await deps.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [`k3sctl-knob-${group}`] }))).AutoScalingGroups![0];
  const ids = (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
  if (ids.length === 0) return [];
  const out = await deps.clients.ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: ids }));
  return (out.InstanceCreditSpecifications ?? []).map((c) => c.CpuCredits!);
}

async function withAlb(): Promise<Sandbox> {
  const sb = new Sandbox();
  await createAlb(sb, await createCertificate(sb));
  return sb;
}

describe('ingress deregistration delay and source CIDRs', () => {
  it('defaults the delay to 60 s and leaves the rule open to any source; a re-run writes nothing', async () => {
    const sb = await withAlb();
    await clusterCreate(next(sb), spec());
    expect(await deregistrationDelay(next(sb))).toBe('60');
    expect(sourceIps(await ingressRule(next(sb)))).toEqual([]);
    const again = await clusterCreate(next(sb), spec());
    expect(again.apiCalls.write).toBe(0);
    expect(again.changes.every((c) => c.action === 'noop')).toBe(true);
    expect((await clusterDescribe(next(sb), 'knob')).ingress).toMatchObject({ sourceCidrs: [], deregistrationDelaySeconds: 60 });
  });

  it('sets both at create, shows them in the plan, changes them in place and re-runs with 0 writes', async () => {
    const sb = await withAlb();
    const first = spec({ ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 30, sourceCidrs: ['203.0.113.0/24', '2001:db8::/32'] } });
    await clusterCreate(next(sb), first);
    expect(await deregistrationDelay(next(sb))).toBe('30');
    const created = await ingressRule(next(sb));
    expect(sourceIps(created)).toEqual(['2001:db8::/32', '203.0.113.0/24']);
    const tgArn = (await findTargetGroupByName(next(sb).clients, TG))!.arn;
    expect((await clusterCreate(next(sb), first)).apiCalls.write).toBe(0);

    const changed = spec({ ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 120, sourceCidrs: ['198.51.100.0/24'] } });
    const planned = await clusterCreate(next(sb), changed, { dryRun: true });
    const plannedTg = planned.planned.find((c) => c.type === 'AWS::ElasticLoadBalancingV2::TargetGroup');
    const plannedRule = planned.planned.find((c) => c.type === 'AWS::ElasticLoadBalancingV2::ListenerRule');
    expect(plannedTg).toMatchObject({ action: 'update' });
    expect(JSON.stringify(plannedTg)).toContain('deregistrationDelay: 30s -> 120s');
    expect(plannedRule).toMatchObject({ action: 'update' });
    expect(JSON.stringify(plannedRule)).toContain('198.51.100.0/24');
    // The dry run changed nothing.
    expect(await deregistrationDelay(next(sb))).toBe('30');

    await clusterCreate(next(sb), changed);
    expect(await deregistrationDelay(next(sb))).toBe('120');
    const updated = await ingressRule(next(sb));
    expect(sourceIps(updated)).toEqual(['198.51.100.0/24']);
    // In place: the same rule (and priority) and the same target group.
    expect(updated.RuleArn).toBe(created.RuleArn);
    expect(updated.Priority).toBe(created.Priority);
    expect((await findTargetGroupByName(next(sb).clients, TG))!.arn).toBe(tgArn);
    expect((await clusterCreate(next(sb), changed)).apiCalls.write).toBe(0);
    expect((await clusterDescribe(next(sb), 'knob')).ingress).toMatchObject({ sourceCidrs: ['198.51.100.0/24'], deregistrationDelaySeconds: 120 });

    // Back to any source: the condition goes, the host header stays.
    await clusterCreate(next(sb), spec({ ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 120 } }));
    const open = await ingressRule(next(sb));
    expect(sourceIps(open)).toEqual([]);
    expect(open.Conditions!.map((c) => c.Field)).toEqual(['host-header']);
  });

  it('restores the previous delay and source CIDRs when a later write of the run fails', async () => {
    const sb = await withAlb();
    await clusterCreate(next(sb), spec({ ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 45, sourceCidrs: ['203.0.113.0/24'] } }));
    // The launch template change comes after the target group and rule updates; its failure rolls them back.
    sb.faults.add({ op: 'CreateLaunchTemplateVersion', nth: 1, code: 'AccessDenied' });
    const error = await clusterCreate(
      next(sb),
      spec({ nodeType: 't3.large', ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 200, sourceCidrs: ['198.51.100.0/24', '192.0.2.0/24'] } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect(await deregistrationDelay(next(sb))).toBe('45');
    expect(sourceIps(await ingressRule(next(sb)))).toEqual(['203.0.113.0/24']);
  });

  it('leaves the delay of a cluster stored before the setting alone until cluster create declares it', async () => {
    const sb = await withAlb();
    await clusterCreate(next(sb), spec());
    // As a cluster made by an earlier k3sctl: ELBv2's 300 s, and no delay in the stored settings.
    const deps = next(sb);
    const tgArn = (await findTargetGroupByName(deps.clients, TG))!.arn;
    await deps.clients.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }] }));
    const name = '/k3sctl/clusters/knob/config';
    const stored = JSON.parse((await deps.clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter!.Value!);
    delete stored.ingress.deregistrationDelaySeconds;
    await deps.clients.ssm.send(new PutParameterCommand({ Name: name, Value: JSON.stringify(stored), Overwrite: true }));
    // A command that converges from the stored settings (nodegroup add) does not touch it...
    const added = await groupAdd(next(sb), 'knob', buildGroupSpec({ name: 'extra', role: 'node', count: 1 }));
    expect(added.changes.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::TargetGroup' && c.action !== 'noop')).toEqual([]);
    expect(await deregistrationDelay(next(sb))).toBe('300');
    // ...cluster create declares the default again: one in-place update.
    const converged = await clusterCreate(next(sb), spec());
    expect(converged.changes.filter((c) => c.type === 'AWS::ElasticLoadBalancingV2::TargetGroup').map((c) => c.action)).toEqual(['update']);
    expect(await deregistrationDelay(next(sb))).toBe('60');
    expect((await clusterDescribe(next(sb), 'knob')).ingress).toMatchObject({ deregistrationDelaySeconds: 60 });
  });

  it('recycle allows for the delay: a replaced node leaves only after its targets drained', async () => {
    const sb = await withAlb();
    await clusterCreate(next(sb), spec({ ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 240 } }));
    await clusterCreate(next(sb), spec({ nodeType: 't3.large', ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 240 } }));
    // --drain-timeout shorter than the delay: without the allowance the drain gate would time out.
    const result = await recycle(next(sb), { cluster: 'knob', groups: ['nodes'], strategy: 'serial', nodeReadiness: false, drainTimeoutMs: 120_000 });
    expect(result.groups).toEqual([expect.objectContaining({ group: 'nodes', deregistrationDelaySeconds: 240 })]);
    expect(result.replacements).toHaveLength(1);
    expect(result.replacements[0].durationMs).toBeGreaterThanOrEqual(240_000);
    const g = (await next(sb).clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-knob-nodes'] }))).AutoScalingGroups![0];
    expect(g.Instances!.map((i) => [i.InstanceType, i.LifecycleState])).toEqual([['t3.large', 'InService']]);
  });
});

describe('CPU credits per group', () => {
  it('puts the option in the launch template, launches with it, re-runs with 0 writes and changes it by a new version', async () => {
    const sb = new Sandbox();
    const standard = buildClusterSpec({ name: 'knob', region: 'us-east-1', controlPlanes: 1, nodes: 1, nodeCpuCredits: 'standard' });
    await clusterCreate(next(sb), standard);
    expect(await launchTemplateCredits(next(sb), 'nodes')).toBe('standard');
    // Not given for the control planes: no CreditSpecification, EC2's default of the family (t3: unlimited).
    expect(await launchTemplateCredits(next(sb), 'control-plane')).toBeUndefined();
    expect(await instanceCredits(next(sb), 'nodes')).toEqual(['standard']);
    expect(await instanceCredits(next(sb), 'control-plane')).toEqual(['unlimited']);
    expect((await clusterCreate(next(sb), standard)).apiCalls.write).toBe(0);

    const unlimited = buildClusterSpec({ name: 'knob', region: 'us-east-1', controlPlanes: 1, nodes: 1, nodeCpuCredits: 'unlimited', controlPlaneCpuCredits: 'standard' });
    const changed = await clusterCreate(next(sb), unlimited);
    expect(changed.changes.filter((c) => c.type === 'AWS::EC2::LaunchTemplate' && c.action === 'update')).toHaveLength(2);
    expect(await launchTemplateCredits(next(sb), 'nodes')).toBe('unlimited');
    expect(await launchTemplateCredits(next(sb), 'control-plane')).toBe('standard');
    // The running instances keep what they launched with until recycled.
    expect(changed.outOfDate.map((o) => o.group).sort()).toEqual(['control-plane', 'nodes']);
    await recycle(next(sb), { cluster: 'knob', strategy: 'serial', nodeReadiness: false });
    expect(await instanceCredits(next(sb), 'nodes')).toEqual(['unlimited']);
    expect(await instanceCredits(next(sb), 'control-plane')).toEqual(['standard']);
    expect((await clusterCreate(next(sb), unlimited)).apiCalls.write).toBe(0);
  });

  it('gives a group added later its own option, kept by nodegroup add re-runs and by cluster create', async () => {
    const sb = new Sandbox();
    const clusterSpec = buildClusterSpec({ name: 'knob', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    await clusterCreate(next(sb), clusterSpec);
    const burst = buildGroupSpec({ name: 'burst', role: 'node', count: 1, instanceType: 't3a.small', cpuCredits: 'standard' });
    await groupAdd(next(sb), 'knob', burst);
    expect(await launchTemplateCredits(next(sb), 'burst')).toBe('standard');
    expect(await instanceCredits(next(sb), 'burst')).toEqual(['standard']);
    expect((await groupAdd(next(sb), 'knob', burst)).apiCalls.write).toBe(0);
    // cluster create converges the groups it names; the added group keeps its settings.
    expect((await clusterCreate(next(sb), clusterSpec)).apiCalls.write).toBe(0);
    expect(await launchTemplateCredits(next(sb), 'burst')).toBe('standard');
  });

  it('rolls the launch template back to the previous default when a later write fails', async () => {
    const sb = new Sandbox();
    await clusterCreate(next(sb), buildClusterSpec({ name: 'knob', region: 'us-east-1', controlPlanes: 1, nodes: 1, nodeCpuCredits: 'standard' }));
    sb.faults.add({ op: 'UpdateAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const error = await clusterCreate(
      next(sb),
      buildClusterSpec({ name: 'knob', region: 'us-east-1', controlPlanes: 1, nodes: 2, nodeCpuCredits: 'unlimited' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(await launchTemplateCredits(next(sb), 'nodes')).toBe('standard');
  });
});
