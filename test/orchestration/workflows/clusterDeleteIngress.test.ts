// `cluster delete` of a cluster with automatic ingress: ingress traffic stops first (rule deleted,
// target group detached from every group), the groups drain, the target group goes last, and the
// account is back where it was. A delete that failed half-way (or an older run that deleted the target
// group while groups still listed it) is finished by the next delete, and the failed run's error says
// what it did and that no rollback undoes a delete.
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { buildClusterSpec } from '../../../src/config/cluster';
import { listRuns } from '../../../src/orchestration/engine';
import { RunFailedError } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { deleteListenerRule, findListenerRuleByTags, ruleOwnerTags } from '../../../src/resources/listenerRule';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { clusterTags } from '../../../src/aws/tags';
import { Sandbox, type SandboxState } from '../../../src/sandbox/sandbox';
import type { InventoryItem } from '../../../src/sandbox/service';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { sharedAlbState } from './endpointFixture';

afterAll(() => removeTestHomes());

// EC2 keeps terminated instances visible for an hour; past that the account is comparable item by item.
const AGE_OUT_MS = 2 * 3_600_000;
const RULE = 'AWS::ElasticLoadBalancingV2::ListenerRule';
const TARGET_GROUP = 'AWS::ElasticLoadBalancingV2::TargetGroup';
const ATTACHMENT = 'AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment';
const GROUPS = ['k3sctl-ing-control-plane', 'k3sctl-ing-nodes'];

const spec = buildClusterSpec({ name: 'ing', region: 'us-east-1', controlPlanes: 1, nodes: 1, ingress: { alb: 'shared', zone: 'example.com' } });

/** The account with the shared ALB (certificate, security groups, listeners). */
let start: SandboxState;
beforeAll(async () => {
  start = await sharedAlbState();
}, 60_000);

function aged(sb: Sandbox): InventoryItem[] {
  sb.advance(AGE_OUT_MS);
  return sb.inventory({ includeDefaults: false });
}

/** A fresh account with the ALB, its inventory, a home, and the cluster created with ingress. */
async function withIngressCluster() {
  const sb = new Sandbox({ state: structuredClone(start) });
  const before = sb.inventory({ includeDefaults: false });
  const { home } = sandboxDeps(sb);
  await clusterCreate(sandboxDeps(sb, { home }).deps, spec);
  const next = () => sandboxDeps(sb, { home }).deps;
  const tg = (await findTargetGroupByName(next().clients, 'k3s-ing-ing'))!;
  expect(tg).toBeDefined();
  return { sb, before, home, next, tg };
}

async function groupTargetGroups(sb: Sandbox): Promise<string[][]> {
  const { deps } = sandboxDeps(sb);
  const out = await deps.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: GROUPS }));
  return (out.AutoScalingGroups ?? []).map((g) => g.TargetGroupARNs ?? []);
}

describe('cluster delete with automatic ingress', () => {
  it('stops ingress traffic first, deletes the target group once no group lists it, and leaves the account as before', async () => {
    const { sb, before, next } = await withIngressCluster();

    const dry = await clusterDelete(next(), 'ing', { dryRun: true });
    expect(dry.planned.filter((c) => c.type === ATTACHMENT)).toEqual(
      GROUPS.map((g) => expect.objectContaining({ action: 'update', name: g, details: ['detach k3s-ing-ing'] })),
    );

    const deleted = await clusterDelete(next(), 'ing');
    const order = deleted.changes.map((c) => `${c.action} ${c.type}`);
    const at = (entry: string) => order.indexOf(entry);
    expect(at(`delete ${RULE}`)).toBe(0);
    expect(at(`update ${ATTACHMENT}`)).toBeGreaterThan(at(`delete ${RULE}`));
    expect(at('delete AWS::AutoScaling::AutoScalingGroup')).toBeGreaterThan(at(`update ${ATTACHMENT}`));
    expect(at(`delete ${TARGET_GROUP}`)).toBeGreaterThan(order.lastIndexOf('delete AWS::AutoScaling::AutoScalingGroup'));
    expect(deleted.changes.filter((c) => c.type === ATTACHMENT).map((c) => c.name).sort()).toEqual(GROUPS);

    expect(aged(sb)).toEqual(before);
    await expect(clusterDelete(next(), 'ing')).rejects.toThrow(/does not exist/);
  });

  it('a delete that failed right after the target group delete is finished by the next delete', async () => {
    const { sb, before, next } = await withIngressCluster();
    // The next write after DeleteTargetGroup (no stray instances): the first launch template delete.
    sb.faults.add({ op: 'DeleteLaunchTemplate', nth: 1, code: 'AccessDenied' });
    const failed = await clusterDelete(next(), 'ing').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    expect((failed as RunFailedError).changes.map((c) => c.type)).toContain(TARGET_GROUP);
    sb.faults.clear();

    const finished = await clusterDelete(next(), 'ing');
    expect(finished.changes.map((c) => c.type)).toEqual(expect.arrayContaining(['AWS::EC2::LaunchTemplate', 'AWS::EC2::SecurityGroup']));
    expect(aged(sb)).toEqual(before);
  });

  it('finishes a cluster whose target group an earlier run deleted while the groups still listed it', async () => {
    const { sb, before, next, tg } = await withIngressCluster();
    // What an earlier cluster delete left: rule and target group gone, both groups still listing the ARN.
    const { clients } = next();
    const listener = await findHttpsListener(clients, (await findLoadBalancer(clients, 'shared')).arn);
    const rule = await findListenerRuleByTags(clients, listener.ListenerArn!, ruleOwnerTags(clusterTags('ing', 'ingress')));
    await deleteListenerRule(clients, rule!.arn);
    await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.arn }));
    expect(await groupTargetGroups(sb)).toEqual([[tg.arn], [tg.arn]]);

    const finished = await clusterDelete(next(), 'ing');
    expect(finished.changes.filter((c) => c.type === ATTACHMENT).map((c) => c.name).sort()).toEqual(GROUPS);
    expect(finished.changes.map((c) => c.type)).not.toContain(TARGET_GROUP);
    expect(aged(sb)).toEqual(before);
  });

  it("a failed delete's error lists what it did, and says no rollback undoes it", async () => {
    const { sb, home, next, tg } = await withIngressCluster();
    // The first drain: after the rule delete and the detaches.
    sb.faults.add({ op: 'UpdateAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const deps = next();
    const error = (await clusterDelete(deps, 'ing').catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    sb.faults.clear();

    const done = [
      { action: 'delete', type: RULE },
      ...GROUPS.map((name) => ({ action: 'update', type: ATTACHMENT, name, id: name })),
    ];
    expect(error.changes).toEqual(expect.arrayContaining(done.map((d) => expect.objectContaining(d))));
    expect(error.changes.filter((c) => c.type === ATTACHMENT).every((c) => c.details?.[0] === 'detach k3s-ing-ing')).toBe(true);
    // The target group is still there (and no group lists it): the next delete removes it.
    expect(error.changes.map((c) => c.type)).not.toContain(TARGET_GROUP);
    expect(await findTargetGroupByName(next().clients, 'k3s-ing-ing')).toMatchObject({ arn: tg.arn });
    expect(await groupTargetGroups(sb)).toEqual([[], []]);

    // Nothing was rolled back, nothing failed to roll back, and what stays done is named with why.
    expect(error.rolledBack).toEqual([]);
    expect(error.leftovers).toEqual([]);
    expect(error.notRolledBack).toEqual(
      expect.arrayContaining(
        done.map((d) => expect.objectContaining({ ...d, reason: expect.stringMatching(d.action === 'delete' ? /cannot be rolled back/ : /without undo/) })),
      ),
    );
    expect(error.notRolledBack).toHaveLength(done.length);
    expect(error.suggestion).toMatch(/run the command again \(cluster delete ing\)/);
    expect(listRuns(home).find((r) => r.runId === deps.runId)).toMatchObject({ status: 'failed', pendingUndo: 0 });
  });

  it('a failed delete names the group it scaled to 0 but could not delete', async () => {
    const { sb, next } = await withIngressCluster();
    sb.faults.add({ op: 'DeleteAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const error = (await clusterDelete(next(), 'ing').catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    sb.faults.clear();
    const scaled = { action: 'update', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-ing-nodes' };
    expect(error.changes).toContainEqual(expect.objectContaining(scaled));
    expect(error.notRolledBack).toContainEqual(expect.objectContaining(scaled));
    expect(error.changes.map((c) => c.action)).not.toContain('noop');

    await clusterDelete(next(), 'ing');
    expect(await findTargetGroupByName(next().clients, 'k3s-ing-ing')).toBeUndefined();
  });
});
