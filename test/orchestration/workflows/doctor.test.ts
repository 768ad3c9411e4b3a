// `doctor` and the preflight of `cluster create` in the sandbox: every check passing in the default
// account; a denied action, a lowered vCPU quota and a VPC without a route to the internet each found;
// a simulator the caller may not use is "not checked", never a failure; cluster create fails with exit
// 2 before its first write on a denied action or an exceeded quota; and the route analysis itself.
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import type { RouteTable } from '@aws-sdk/client-ec2';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildClusterSpec, type ClusterFile } from '../../../src/config/cluster';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { doctor, type DoctorSetup } from '../../../src/orchestration/workflows/doctor';
import { PreflightError } from '../../../src/orchestration/steps/preflight';
import { subnetInternetRoutes } from '../../../src/resources/routeTable';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { tempHomes } from '../../helpers/cli';
import { runInProcess } from '../../helpers/inProcessCli';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const SETUP: DoctorSetup = { region: 'us-east-1', regionSource: 'the sandbox\'s default', endpointSource: 'the embedded sandbox' };
const spec = (over: Partial<ClusterFile> = {}) => buildClusterSpec({ region: 'us-east-1', ...over, name: over.name ?? 'demo' });

describe('doctor in the sandbox', () => {
  it('passes every check in the default account, reading only', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const r = await doctor(deps, spec(), SETUP);
    expect(r.checks.map((c) => [c.check, c.status])).toEqual([
      ['identity', 'ok'],
      ['permissions', 'ok'],
      ['quota', 'ok'],
      ['network', 'ok'],
    ]);
    expect(r.ok).toBe(true);
    expect(r.identity).toEqual({ account: '123456789012', arn: 'arn:aws:iam::123456789012:user/sandbox', userId: 'AIDASANDBOXUSER000001' });
    expect(r.permissions.principal).toBe('arn:aws:iam::123456789012:user/sandbox');
    expect(r.permissions.commands.map((c) => c.command)).toEqual(expect.arrayContaining(['cluster create', 'cluster delete', 'recycle', 'endpoint create']));
    expect(r.quota).toMatchObject({ quota: 1152, inUseVcpus: 0, launchVcpus: 10 });
    expect(r.network.subnets).toHaveLength(3);
    expect(r.network.subnets.every((s) => s.route.kind === 'internet-gateway' && s.association === 'main' && s.mapPublicIpOnLaunch === true)).toBe(true);
    expect(deps.clients.calls.write).toBe(0);
  });

  it('names the actions the caller may not perform, per command, on the cluster\'s own resources', async () => {
    const sb = new Sandbox({ behavior: { deniedActions: ['iam:CreateRole', 'elasticloadbalancing:CreateRule'] } });
    const r = await doctor(sandboxDeps(sb).deps, spec(), SETUP);
    expect(r.ok).toBe(false);
    const create = r.permissions.commands.find((c) => c.command === 'cluster create')!;
    expect(create).toMatchObject({
      status: 'fail',
      denied: [{ action: 'iam:CreateRole', resource: 'arn:aws:iam::123456789012:role/k3sctl-demo-us-east-1-node', decision: 'implicitDeny' }],
    });
    expect(r.permissions.commands.find((c) => c.command === 'cluster create --ingress-alb')!.denied.map((d) => d.action)).toEqual([
      'elasticloadbalancing:CreateRule',
      'iam:CreateRole',
    ]);
    expect(r.permissions.commands.find((c) => c.command === 'certificate list')!.status).toBe('ok');
    const check = r.checks.find((c) => c.check === 'permissions')!;
    expect(check.summary).toBe('arn:aws:iam::123456789012:user/sandbox may not perform some actions of cluster create');
    expect(check.details).toContain('cluster create: denied iam:CreateRole on arn:aws:iam::123456789012:role/k3sctl-demo-us-east-1-node');
  });

  it('only warns about commands the cluster does not need (here: certificates)', async () => {
    const sb = new Sandbox({ behavior: { deniedActions: ['acm:*'] } });
    const r = await doctor(sandboxDeps(sb).deps, spec(), SETUP);
    expect(r.ok).toBe(true);
    const check = r.checks.find((c) => c.check === 'permissions')!;
    expect(check.status).toBe('warn');
    expect(check.summary).toMatch(/^arn:aws:iam::123456789012:user\/sandbox may perform cluster create and cluster delete, not every action of alb create, certificate request, /);
  });

  it('counts what other instances use against the vCPU quota, not the cluster\'s own', async () => {
    const sb = new Sandbox({ behavior: { onDemandVcpuQuota: 16 } });
    await clusterCreate(sandboxDeps(sb).deps, spec({ name: 'one', controlPlanes: 1, nodes: 1 }));
    // The existing cluster runs 2 x t3.medium = 4 vCPUs; a second one of 3 + 2 x m5.large (2 vCPUs) = 10 more.
    const ok = await doctor(sandboxDeps(sb).deps, spec({ name: 'two', nodeType: 'm5.large' }), SETUP);
    expect(ok.quota).toMatchObject({ status: 'ok', quota: 16, inUseVcpus: 4, launchVcpus: 10 });
    const again = await doctor(sandboxDeps(sb).deps, spec({ name: 'one', controlPlanes: 1, nodes: 1 }), SETUP);
    expect(again.quota).toMatchObject({ inUseVcpus: 0, launchVcpus: 4 });
    const over = await doctor(sandboxDeps(sb).deps, spec({ name: 'two', nodes: 3, nodeType: 'm5.xlarge' }), SETUP);
    expect(over.quota).toMatchObject({ status: 'fail', quota: 16, inUseVcpus: 4, launchVcpus: 18 });
    expect(over.checks.find((c) => c.check === 'quota')!.summary).toBe('18 vCPUs to run + 4 in use by other On-Demand Standard instances > quota 16 (L-1216C47A)');
    const spot = await doctor(sandboxDeps(sb).deps, spec({ name: 'two', nodes: 3, nodeType: 'm5.xlarge', spot: true }), SETUP);
    expect(spot.quota).toMatchObject({ status: 'ok', launchVcpus: 6 });
    expect(spot.quota.groups.find((g) => g.group === 'nodes')).toMatchObject({ counted: false, note: 'spot: counted against the Spot quota, not checked' });
  });

  it('finds a VPC whose subnets have no route to the internet', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const vpc = (await deps.clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await deps.clients.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.20.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const r = await doctor(sandboxDeps(sb).deps, spec({ vpcId: vpc }), SETUP);
    expect(r.ok).toBe(false);
    expect(r.network).toMatchObject({ status: 'fail', vpcId: vpc });
    expect(r.network.subnets).toEqual([
      expect.objectContaining({ subnetId: subnet, association: 'main', route: { kind: 'none' }, problem: expect.stringContaining('no route to the internet') }),
    ]);
    expect(r.checks.find((c) => c.check === 'network')!.summary).toBe(`1 of 1 subnet(s) of ${vpc} may not reach the internet: instances could not download k3s`);
  });

  it('says "not checked" when the caller may not use the simulator or read the quota, and does not fail for it', async () => {
    const sb = new Sandbox();
    sb.faults.add({ op: 'SimulatePrincipalPolicy', code: 'AccessDenied' });
    sb.faults.add({ op: 'GetServiceQuota', code: 'AccessDeniedException' });
    const r = await doctor(sandboxDeps(sb).deps, spec(), SETUP);
    expect(r.checks.map((c) => [c.check, c.status])).toEqual([
      ['identity', 'ok'],
      ['permissions', 'not-checked'],
      ['quota', 'not-checked'],
      ['network', 'ok'],
    ]);
    expect(r.ok).toBe(true);
    expect(r.permissions.reason).toMatch(/^could not simulate the policies of arn:aws:iam::123456789012:user\/sandbox: iam:SimulatePrincipalPolicy failed \(HTTP 400\): AccessDenied/);
  });
});

describe('the preflight of cluster create', () => {
  it('fails before the first write on a denied action (exit 2), and --no-preflight skips it', async () => {
    const sb = new Sandbox({ behavior: { deniedActions: ['iam:PassRole', 'autoscaling:CreateAutoScalingGroup'] } });
    const before = sb.inventory();
    const { deps } = sandboxDeps(sb);
    const error = await clusterCreate(deps, spec()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).message).toBe(
      'preflight of cluster create demo failed, nothing was changed: arn:aws:iam::123456789012:user/sandbox may not perform autoscaling:CreateAutoScalingGroup, iam:PassRole',
    );
    expect((error as PreflightError).checks.find((c) => c.check === 'permissions')!.status).toBe('fail');
    expect(deps.clients.calls.write).toBe(0);
    expect(sb.inventory()).toEqual(before);

    const skipped = await clusterCreate(sandboxDeps(sb).deps, spec(), { preflight: false, wait: false });
    expect(skipped.changes.some((c) => c.action === 'create')).toBe(true);
  });

  it('fails before the first write when the cluster would exceed the vCPU quota, naming the quota increase', async () => {
    const sb = new Sandbox({ behavior: { onDemandVcpuQuota: 8 } });
    const before = sb.inventory();
    const { deps } = sandboxDeps(sb);
    const error = (await clusterCreate(deps, spec()).catch((e: unknown) => e)) as PreflightError;
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toMatch(/On-Demand vCPU quota: 10 vCPUs to run \+ 0 in use by other On-Demand Standard instances > quota 8 \(L-1216C47A\)/);
    expect(error.suggestion).toContain('aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A');
    expect(deps.clients.calls.write).toBe(0);
    expect(sb.inventory()).toEqual(before);
    // A cluster that fits passes; its no-op re-run does not run the preflight at all.
    await clusterCreate(sandboxDeps(sb).deps, spec({ controlPlanes: 1, nodes: 2 }), { wait: false });
    const rerun = sandboxDeps(sb);
    await clusterCreate(rerun.deps, spec({ controlPlanes: 1, nodes: 2 }), { wait: false });
    expect(rerun.deps.clients.calls.byOperation.get('GetServiceQuota')).toBeUndefined();
  });

  it('warns, without failing, when the subnets have no route to the internet', async () => {
    const sb = new Sandbox();
    const first = sandboxDeps(sb);
    const vpc = (await first.deps.clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc!.VpcId!;
    await first.deps.clients.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.30.1.0/24' }));
    const { deps, events } = sandboxDeps(sb);
    const created = await clusterCreate(deps, spec({ vpcId: vpc, controlPlanes: 1, nodes: 0 }), { wait: false });
    expect(created.changes.some((c) => c.action === 'create')).toBe(true);
    expect(events.of('log').filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([expect.stringMatching(new RegExp(`^1 of 1 subnet\\(s\\) of ${vpc} may not reach the internet`))]);
  });
});

describe('k3sctl doctor (in process, --sandbox)', () => {
  const home = tempHomes();

  it('prints the report and exits 0; --json is one document', async () => {
    const h = home();
    const text = await runInProcess(['doctor', '--sandbox'], { K3SCTL_HOME: h });
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/^k3sctl doctor: cluster example \(control-plane 3x t3\.medium, nodes 2x t3\.medium\) in vpc-\w+, us-east-1\n/);
    expect(text.stdout).toMatch(/^ {2}region {7}us-east-1 \(from the sandbox's default\)$/m);
    expect(text.stdout).toMatch(/^ {2}permissions {2}ok {10}arn:aws:iam::123456789012:user\/sandbox may perform every action of the \d+ commands$/m);
    expect(text.stdout).toMatch(/^no check failed$/m);
    const json = await runInProcess(['doctor', 'demo', '--sandbox', '--json', '--nodes', '4'], { K3SCTL_HOME: h });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ ok: true, cluster: { name: 'demo', groups: [{ name: 'control-plane', count: 3 }, { name: 'nodes', count: 4 }] }, quota: { launchVcpus: 14 } });
    // Reading only: the account saw no write.
    const state = JSON.parse(fs.readFileSync(path.join(h, 'sandbox/state.json'), 'utf8'));
    expect(state.calls.write).toBe(0);
  });

  it('exits 2 when a check fails, the report on stdout and the failure on stderr (JSON: the error carries the report)', async () => {
    const h = home();
    const env = { K3SCTL_HOME: h, K3SCTL_SANDBOX_BEHAVIOR: '{"onDemandVcpuQuota": 4}' };
    const text = await runInProcess(['doctor', '--sandbox'], env);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^ {2}quota {8}FAIL {8}10 vCPUs to run \+ 0 in use by other On-Demand Standard instances > quota 4 \(L-1216C47A\)$/m);
    expect(text.stderr).toMatch(/^Error: 1 check\(s\) failed: quota \(10 vCPUs to run/);
    const json = await runInProcess(['doctor', '--sandbox', '--json'], env);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(doc.error).toMatchObject({ type: 'DoctorFailedError', report: { ok: false, quota: { status: 'fail', quota: 4 } } });
  });

  it('cluster create with a denied action exits 2 before any write, the preflight error in the JSON', async () => {
    const h = home();
    const r = await runInProcess(['cluster', 'create', 'demo', '--sandbox', '--json', '--yes'], {
      K3SCTL_HOME: h,
      K3SCTL_SANDBOX_BEHAVIOR: '{"deniedActions": ["ec2:RunInstances"]}',
    });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({
      type: 'PreflightError',
      message: 'preflight of cluster create demo failed, nothing was changed: arn:aws:iam::123456789012:user/sandbox may not perform ec2:RunInstances',
      checks: expect.arrayContaining([expect.objectContaining({ check: 'permissions', status: 'fail' })]),
    });
    const state = JSON.parse(fs.readFileSync(path.join(h, 'sandbox/state.json'), 'utf8'));
    expect(state.calls.write).toBe(0);
  });
});

describe('the route of a subnet to the internet', () => {
  const table = (id: string, routes: RouteTable['Routes'], associations: RouteTable['Associations']): RouteTable => ({ RouteTableId: id, Routes: routes, Associations: associations });
  const local = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' as const };

  it('uses the explicitly associated table before the main one, and classifies the default route', () => {
    const tables = [
      table('rtb-main', [local, { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' }], [{ Main: true }]),
      table('rtb-nat', [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }], [{ SubnetId: 'subnet-private' }]),
      table('rtb-isolated', [local], [{ SubnetId: 'subnet-isolated' }]),
      table('rtb-dead', [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-gone', State: 'blackhole' }], [{ SubnetId: 'subnet-dead' }]),
      table('rtb-tgw', [local, { DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-1', State: 'active' }], [{ SubnetId: 'subnet-tgw' }]),
    ];
    expect(subnetInternetRoutes(tables, ['subnet-public', 'subnet-private', 'subnet-isolated', 'subnet-dead', 'subnet-tgw'])).toEqual([
      { subnetId: 'subnet-public', routeTableId: 'rtb-main', association: 'main', route: { kind: 'internet-gateway', target: 'igw-1' } },
      { subnetId: 'subnet-private', routeTableId: 'rtb-nat', association: 'explicit', route: { kind: 'nat-gateway', target: 'nat-1' } },
      { subnetId: 'subnet-isolated', routeTableId: 'rtb-isolated', association: 'explicit', route: { kind: 'none' } },
      { subnetId: 'subnet-dead', routeTableId: 'rtb-dead', association: 'explicit', route: { kind: 'none' } },
      { subnetId: 'subnet-tgw', routeTableId: 'rtb-tgw', association: 'explicit', route: { kind: 'unknown', target: 'tgw-1' } },
    ]);
  });
});
