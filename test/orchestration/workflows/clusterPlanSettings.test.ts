// The plan of `cluster create` shows the settings a user chose under each create (the seed's knobs:
// deregistration delay, ingress source CIDRs, CPU credits), and the fields an update changes.
import { CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { findLoadBalancer } from '../../../src/resources/loadBalancer';
import { buildClusterSpec } from '../../../src/config/cluster';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { recycle } from '../../../src/orchestration/workflows/recycle';
import { renderRecyclePlan } from '../../../src/cli/recycleOutput';
import { renderPlan } from '../../../src/ui/plan';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, next } from './endpointFixture';

afterAll(() => removeTestHomes());

const HOST = '*--knobs.us-east-1.example.com';

describe('cluster create plan: chosen settings', () => {
  it('lists them under the creates, and as old -> new under the updates', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const spec = (delay: number, cidrs: string[], credits: 'standard' | 'unlimited') =>
      buildClusterSpec({
        name: 'knobs',
        region: 'us-east-1',
        controlPlanes: 1,
        nodes: 1,
        nodeCpuCredits: credits,
        ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: delay, sourceCidrs: cidrs },
      });
    const fresh = next(sb);
    const plan = await clusterCreate(fresh, spec(90, ['203.0.113.0/24', '2001:db8::/32'], 'unlimited'), { dryRun: true });
    expect(fresh.clients.calls.write).toBe(0);
    const detailsOf = (name: string) => plan.planned.find((c) => c.name === name)?.details;
    expect(detailsOf('k3s-knobs-ing')).toEqual(['deregistrationDelay: 90s']);
    expect(detailsOf(HOST)).toEqual(['sourceIps: 203.0.113.0/24,2001:db8::/32']);
    expect(plan.planned.filter((c) => c.type === 'AWS::EC2::LaunchTemplate').map((c) => [c.name, c.details])).toEqual([
      ['k3sctl-knobs-control-plane', undefined],
      ['k3sctl-knobs-nodes', ['cpuCredits: unlimited']],
    ]);
    const text = renderPlan(plan.planned);
    expect(text).toContain('k3s-knobs-ing\n      deregistrationDelay: 90s\n');
    expect(text).toContain(`${HOST}\n      sourceIps: 203.0.113.0/24,2001:db8::/32\n`);

    await clusterCreate(next(sb), spec(90, ['203.0.113.0/24', '2001:db8::/32'], 'unlimited'), { wait: false });
    const changed = await clusterCreate(next(sb), spec(30, [], 'standard'), { dryRun: true });
    const updates = changed.planned.filter((c) => c.action === 'update');
    expect(updates.find((c) => c.name === 'k3s-knobs-ing')?.details).toEqual(['deregistrationDelay: 90s -> 30s']);
    expect(updates.find((c) => c.name === HOST)?.details).toEqual(['sourceIps: 203.0.113.0/24,2001:db8::/32 -> (any)']);
    expect(updates.find((c) => c.name === 'k3sctl-knobs-nodes' && c.type === 'AWS::EC2::LaunchTemplate')?.details).toEqual(['cpuCredits: "unlimited" -> "standard"']);
  });

  it('recycle --dry-run shows the deregistration delay each leaving instance drains first', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const spec = (credits: 'standard' | 'unlimited') =>
      buildClusterSpec({ name: 'knobs', region: 'us-east-1', controlPlanes: 1, nodes: 2, nodeCpuCredits: credits, ingress: { alb: 'shared', zone: 'example.com', deregistrationDelay: 90 } });
    await clusterCreate(next(sb), spec('standard'));
    const changed = await clusterCreate(next(sb), spec('unlimited'), { wait: false });
    expect(changed.outOfDate).toHaveLength(2);
    const deps = next(sb);
    const dry = await recycle(deps, { cluster: 'knobs', strategy: 'serial', dryRun: true });
    expect(deps.clients.calls.write).toBe(0);
    const nodes = dry.groups.find((g) => g.group === 'nodes')!;
    expect(nodes.deregistrationDelaySeconds).toBe(90);
    // Nothing to replace in the control-plane group: no delay is shown for it.
    expect(dry.groups.find((g) => g.group === 'control-plane')!.deregistrationDelaySeconds).toBeUndefined();
    expect(renderRecyclePlan(dry.groups)).toMatch(/k3sctl-knobs-nodes \(node, serial\): 2 to replace.*; a leaving instance first drains 90s from its target groups \(deregistration delay\)/);
  });

  it('shows a group\'s extra security groups (resolved ids) under its launch template and extra target groups under its Auto Scaling group', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const deps = next(sb);
    const vpcId = (await findLoadBalancer(deps.clients, 'shared')).vpcId;
    const sgId = (await deps.clients.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'monitoring', Description: "the user's", VpcId: vpcId }))).GroupId!;
    await deps.clients.elbv2.send(new CreateTargetGroupCommand({ Name: 'metrics', Protocol: 'HTTP', Port: 9100, VpcId: vpcId, TargetType: 'instance' }));
    const run = next(sb);
    const plan = await clusterCreate(
      run,
      buildClusterSpec({ name: 'knobs', region: 'us-east-1', controlPlanes: 1, nodes: 1, nodeSecurityGroups: ['monitoring'], nodeTargetGroups: ['metrics'] }),
      { dryRun: true },
    );
    expect(run.clients.calls.write).toBe(0);
    const nodes = plan.planned.filter((c) => c.name === 'k3sctl-knobs-nodes').map((c) => [c.type, c.details]);
    expect(nodes).toEqual([
      ['AWS::EC2::LaunchTemplate', [`extra securityGroups: ${sgId}`]],
      ['AWS::AutoScaling::AutoScalingGroup', ['extra targetGroups: metrics']],
    ]);
    expect(plan.planned.filter((c) => c.name === 'k3sctl-knobs-control-plane').every((c) => c.details === undefined)).toBe(true);
  });
});
