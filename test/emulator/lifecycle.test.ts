// The whole lifecycle against moto (an AWS emulator we did not write), through bin/run.js
// --endpoint-url, as a user would run it. Every assertion reads moto with the test's own AWS SDK
// clients (test/helpers/awsInventory.ts), never with k3sctl's code, and the test ends by proving the
// account holds exactly what it held before: nothing left, nothing of the user's touched.
//
// What moto lacks entirely is skipped here, assertion by assertion, and named (see moto_server.py):
// - nodes Ready: SSM Run Command never produces output, so create's readiness wait can only run out
//   (asserted: exit 4 naming every instance) and recycle's Kubernetes gate reports "unreachable".
// - IMDS options and instance profiles of a launch template are not applied to ASG instances: they
//   are asserted on the launch template, not on the instances.
// - ASG instances are all placed in one subnet: the spread over the two zones is not asserted.
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateTagsCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { gunzipSync } from 'node:zlib';
import { AccountReader, type Inventory, type InventoryItem } from '../helpers/awsInventory';
import { emulatorCli, explain, type JsonResult, reportAssertionCount } from '../helpers/emulatorCli';
import { emulatorSkipped, MOTO_CREDENTIALS, MOTO_REGION, useMoto } from '../helpers/moto';

const maybe = emulatorSkipped() ? describe.skip : describe;
jest.setTimeout(600_000);

const CLUSTER = 'demo';
const CP_ASG = 'k3sctl-demo-control-plane';
const NODES_ASG = 'k3sctl-demo-nodes';
const CP_ROLE = 'k3sctl-demo-us-east-1-control-plane';
const NODE_ROLE = 'k3sctl-demo-us-east-1-node';

maybe('lifecycle against moto', () => {
  reportAssertionCount('lifecycle against moto');
  const motoServer = useMoto();
  let reader: AccountReader;
  let k3: (args: string[]) => Promise<JsonResult>;
  let before: Inventory;
  let subnets: string[];
  let vpcId: string;

  const item = (inv: Inventory, kind: string, key: string): InventoryItem | undefined => inv[kind]?.find((i) => i.key === key);
  const clusterInstances = async (group?: string) =>
    (await reader.instances()).filter((i) => i.tags['k3sctl.io/cluster'] === CLUSTER && (!group || i.tags['k3sctl.io/group'] === group) && i.attrs.state !== 'shutting-down');
  const ok = (res: JsonResult) => expect({ code: res.code, why: res.code === 0 ? '' : explain(res) }).toEqual({ code: 0, why: '' });

  beforeAll(async () => {
    const moto = motoServer();
    reader = new AccountReader({ region: MOTO_REGION, credentials: MOTO_CREDENTIALS, endpoint: moto.endpoint });
    k3 = emulatorCli(moto);
    // The user's own network and zone, made beforehand: k3sctl must find them and never touch them.
    const vpc = await reader.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    vpcId = vpc.Vpc!.VpcId!;
    await reader.ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Name', Value: 'lab' }] }));
    subnets = [];
    for (const [i, zone] of ['us-east-1a', 'us-east-1b'].entries()) {
      const s = await reader.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i + 1}.0/24`, AvailabilityZone: zone }));
      subnets.push(s.Subnet!.SubnetId!);
    }
    await reader.r53.send(new CreateHostedZoneCommand({ Name: 'example.test', CallerReference: 'k3sctl-emulator-test' }));
    // The user's own security group and target group, which groups may join (and k3sctl must never change).
    await reader.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'monitoring', Description: "the user's", VpcId: vpcId }));
    await reader.elb.send(new CreateTargetGroupCommand({ Name: 'metrics', Protocol: 'HTTP', Port: 9100, VpcId: vpcId, TargetType: 'instance' }));
    before = await reader.inventory();
  }, 120_000);

  afterAll(() => {
    reader?.destroy();
  });

  let planned: { action: string; type: string; name: string }[] = [];

  test('cluster create --dry-run: a plan, and no write', async () => {
    const res = await k3(['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--dry-run']);
    ok(res);
    expect(res.json.apiCalls?.write ?? 0).toBe(0);
    planned = res.json.planned as typeof planned;
    expect(planned.length).toBeGreaterThanOrEqual(12);
    expect(planned.every((c) => c.action === 'create')).toBe(true);
    expect(await reader.inventory()).toEqual(before);
  });

  test('cluster create 3+2 in the user VPC: every resource of the plan and JSON is in moto; the readiness wait runs out with exit 4 and keeps the cluster', async () => {
    const res = await k3(['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--wait-timeout', '20s', '--yes']);
    // moto never answers Run Command, so no instance can be seen Ready: exit 4, every instance named.
    expect({ code: res.code, why: res.code === 4 ? '' : explain(res) }).toEqual({ code: 4, why: '' });
    const error = res.json.error;
    const instances = await clusterInstances();
    expect(instances).toHaveLength(5);
    expect((error.notReady as { instanceId: string }[]).map((n) => n.instanceId).sort()).toEqual(instances.map((i) => i.key).sort());
    for (const n of error.notReady as { lastAnswer: string }[]) expect(n.lastAnswer).toMatch(/\S/);
    expect(res.stderr).toContain(instances[0]!.key);

    const inv = await reader.inventory();
    // Every change the run reports is in moto, by kind and name.
    const changes = error.changes as { action: string; type: string; name: string; id?: string }[];
    expect(changes.filter((c) => c.action === 'create').length).toBeGreaterThanOrEqual(12);
    // The plan said what the run did: the same resources, by kind and name.
    const kindAndName = (c: { type: string; name: string }) => `${c.type} ${c.name}`;
    expect(changes.filter((c) => c.action === 'create').map(kindAndName).sort()).toEqual(planned.map(kindAndName).sort());
    for (const c of changes.filter((x) => x.action !== 'delete')) {
      const kind = inv[c.type];
      expect({ change: c, known: kind !== undefined }).toEqual({ change: c, known: true });
      const present = kind!.some((i) => i.key === c.name || i.key.endsWith(`/${c.name}`) || i.attrs.id === c.id || i.key === c.id);
      expect({ change: c, present }).toEqual({ change: c, present: true });
    }

    // IAM: a role and a profile per role, owned by the cluster, trusted by EC2 only.
    for (const role of [CP_ROLE, NODE_ROLE]) {
      const r = item(inv, 'AWS::IAM::Role', role)!;
      expect(r.tags['k3sctl.io/cluster']).toBe(CLUSTER);
      expect(r.attrs.trustedServices).toEqual(['ec2.amazonaws.com']);
      expect((r.attrs.inlinePolicies as string[]).length).toBeGreaterThan(0);
      expect(item(inv, 'AWS::IAM::InstanceProfile', role)!.attrs.roles).toEqual([role]);
    }
    // The security group in the user's VPC.
    const sg = item(inv, 'AWS::EC2::SecurityGroup', `${vpcId}/k3sctl-demo`)!;
    expect(sg.tags['k3sctl.io/cluster']).toBe(CLUSTER);
    // Parameters: configuration, both tokens as SecureString, one per group.
    const params = Object.fromEntries(inv['AWS::SSM::Parameter']!.filter((p) => p.key.startsWith('/k3sctl/clusters/demo/')).map((p) => [p.key, p.attrs.type]));
    expect(params).toMatchObject({
      '/k3sctl/clusters/demo/config': 'String',
      '/k3sctl/clusters/demo/server-token': 'SecureString',
      '/k3sctl/clusters/demo/agent-token': 'SecureString',
      '/k3sctl/clusters/demo/groups/control-plane': 'String',
      '/k3sctl/clusters/demo/groups/nodes': 'String',
    });
    const config = JSON.parse((await reader.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/demo/config' }))).Parameter!.Value!) as Record<string, unknown>;
    expect(JSON.stringify(config)).toContain(vpcId);
    // Launch templates: IMDSv2, encrypted root volume, the instance profile of the role, gzip user data under 16 KB.
    for (const [lt, profile] of [[CP_ASG, CP_ROLE], [NODES_ASG, NODE_ROLE]] as const) {
      const t = item(inv, 'AWS::EC2::LaunchTemplate', lt)!;
      expect(t.tags['k3sctl.io/cluster']).toBe(CLUSTER);
      expect(t.attrs).toMatchObject({ httpTokens: 'required', instanceProfile: profile, encrypted: [true], userDataGzip: true });
      expect(t.attrs.userDataBytes as number).toBeLessThan(16 * 1024);
    }
    // Groups: capacity, the user's two subnets, the launch template's current version pinned, the drain hook.
    const cp = item(inv, 'AWS::AutoScaling::AutoScalingGroup', CP_ASG)!;
    const nodes = item(inv, 'AWS::AutoScaling::AutoScalingGroup', NODES_ASG)!;
    expect(cp.attrs).toMatchObject({ min: 3, max: 3, desired: 3, launchTemplate: CP_ASG, launchTemplateVersion: '1', subnets: [...subnets].sort() });
    expect(nodes.attrs).toMatchObject({ min: 2, max: 2, desired: 2, launchTemplate: NODES_ASG, launchTemplateVersion: '1', subnets: [...subnets].sort() });
    for (const g of [cp, nodes]) {
      expect(g.attrs.hooks).toEqual([expect.stringMatching(/autoscaling:EC2_INSTANCE_TERMINATING$/)]);
      expect(g.tags).toMatchObject({ 'k3sctl.io/cluster': CLUSTER, [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' });
    }
    expect((await clusterInstances('control-plane')).length).toBe(3);
    expect((await clusterInstances('nodes')).length).toBe(2);
    for (const i of instances) expect(subnets).toContain(i.attrs.subnet);
  });

  test('describe agrees with moto', async () => {
    const res = await k3(['cluster', 'describe', CLUSTER]);
    ok(res);
    const groups = res.json.groups as { autoScalingGroup: string; desired: number; launchTemplateVersion: string; instances: { id: string; upToDate: boolean }[] }[];
    expect(groups.map((g) => g.autoScalingGroup).sort()).toEqual([CP_ASG, NODES_ASG]);
    for (const g of groups) {
      const inMoto = (await clusterInstances()).filter((i) => `k3sctl-demo-${i.tags['k3sctl.io/group']}` === g.autoScalingGroup);
      expect(g.instances.map((i) => i.id).sort()).toEqual(inMoto.map((i) => i.key).sort());
      expect(g.instances.every((i) => i.upToDate)).toBe(true);
    }
    expect(res.json.vpcId).toBe(vpcId);
  });

  test('a re-run of create with the same input makes no write', async () => {
    const snapshot = await reader.inventory();
    const res = await k3(['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--no-wait', '--yes']);
    ok(res);
    expect(res.json.apiCalls.write).toBe(0);
    expect((res.json.changes as { action: string }[]).every((c) => c.action === 'noop')).toBe(true);
    expect(await reader.inventory()).toEqual(snapshot);
  });

  test('nodegroup add, scale, list, delete', async () => {
    let res = await k3(['nodegroup', 'add', CLUSTER, 'extra', '--nodes', '1', '--node-type', 't3.large', '--label', 'tier=batch', '--no-wait', '--yes']);
    ok(res);
    let g = item(await reader.inventory(), 'AWS::AutoScaling::AutoScalingGroup', 'k3sctl-demo-extra')!;
    expect(g.attrs).toMatchObject({ desired: 1, launchTemplate: 'k3sctl-demo-extra' });
    expect(g.tags['k3sctl.io/group']).toBe('extra');
    expect((await clusterInstances('extra')).map((i) => i.attrs.type)).toEqual(['t3.large']);

    res = await k3(['nodegroup', 'scale', CLUSTER, 'extra', '--nodes', '2', '--yes']);
    ok(res);
    g = item(await reader.inventory(), 'AWS::AutoScaling::AutoScalingGroup', 'k3sctl-demo-extra')!;
    expect(g.attrs).toMatchObject({ desired: 2, max: 2 });
    expect(await clusterInstances('extra')).toHaveLength(2);

    res = await k3(['nodegroup', 'list', CLUSTER]);
    ok(res);
    const listed = Object.fromEntries((res.json.groups as { name: string; desired: number; inService: number }[]).map((x) => [x.name, [x.desired, x.inService]]));
    expect(listed).toEqual({ 'control-plane': [3, 3], nodes: [2, 2], extra: [2, 2] });

    res = await k3(['nodegroup', 'delete', CLUSTER, 'extra', '--yes']);
    ok(res);
    const inv = await reader.inventory();
    expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', 'k3sctl-demo-extra')).toBeUndefined();
    expect(item(inv, 'AWS::EC2::LaunchTemplate', 'k3sctl-demo-extra')).toBeUndefined();
    expect(item(inv, 'AWS::SSM::Parameter', '/k3sctl/clusters/demo/groups/extra')).toBeUndefined();
    expect(await clusterInstances('extra')).toHaveLength(0);
  });

  test('certificate request validates through the hosted zone', async () => {
    const res = await k3(['certificate', 'request', 'example.test', '--san', '*.example.test', '--san', '*.us-east-1.example.test', '--yes']);
    ok(res);
    const inv = await reader.inventory();
    const cert = item(inv, 'AWS::CertificateManager::Certificate', 'example.test')!;
    expect(cert.attrs).toMatchObject({ status: 'ISSUED', sans: ['*.example.test', '*.us-east-1.example.test', 'example.test'] });
    const validation = inv['AWS::Route53::RecordSet']!.filter((r) => r.key.endsWith(' CNAME'));
    expect(validation.length).toBeGreaterThanOrEqual(1);
    for (const v of res.json.certificate.validationRecords as { name: string }[]) {
      expect(validation.map((r) => r.key)).toContain(`${v.name.endsWith('.') ? v.name : `${v.name}.`} CNAME`);
    }
  });

  test('alb create: listeners 80 (redirect) and 443 (certificate, 404), two security groups', async () => {
    const res = await k3(['alb', 'create', 'shared', '--certificate-domain', 'example.test', '--vpc', 'lab', '--yes']);
    ok(res);
    const inv = await reader.inventory();
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'shared')!.attrs).toMatchObject({ scheme: 'internet-facing', type: 'application' });
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::Listener', 'shared:80')!.attrs).toMatchObject({ protocol: 'HTTP', defaultAction: 'redirect' });
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::Listener', 'shared:443')!.attrs).toMatchObject({ protocol: 'HTTPS', defaultAction: 'fixed-response', certificates: 1 });
    expect(inv['AWS::EC2::SecurityGroup']!.filter((g) => g.key.startsWith(`${vpcId}/k3sctl-alb-shared-`))).toHaveLength(2);
  });

  test('cluster ingress: a target group attached to every group and the rule *--demo.REGION.ZONE', async () => {
    const res = await k3(['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--ingress-alb', 'shared', '--ingress-zone', 'example.test', '--no-wait', '--yes']);
    ok(res);
    const inv = await reader.inventory();
    const tg = inv['AWS::ElasticLoadBalancingV2::TargetGroup']!.find((t) => t.tags['k3sctl.io/cluster'] === CLUSTER)!;
    expect(tg).toBeDefined();
    for (const asg of [CP_ASG, NODES_ASG]) expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', asg)!.attrs.targetGroups).toEqual([tg.key]);
    const rule = item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'shared:443:*--demo.us-east-1.example.test')!;
    expect(rule.attrs.forward).toEqual([`${tg.key}=1`]);
    expect(rule.tags['k3sctl.io/cluster']).toBe(CLUSTER);
  });

  test('seed knobs: ingress deregistration delay and source CIDRs changed in place, CPU credits by a new launch template version', async () => {
    const ingressArgs = ['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--ingress-alb', 'shared', '--ingress-zone', 'example.test'];
    const tgArn = (await reader.elb.send(new DescribeTargetGroupsCommand({ Names: ['k3s-demo-ing'] }))).TargetGroups![0].TargetGroupArn!;
    const delay = async () =>
      (await reader.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tgArn }))).Attributes!.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const rule = async () => {
      const lb = (await reader.elb.send(new DescribeLoadBalancersCommand({ Names: ['shared'] }))).LoadBalancers![0];
      const listener = (await reader.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners!.find((l) => l.Port === 443)!;
      const rules = (await reader.elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
      return rules.find((r) => JSON.stringify(r.Conditions).includes('*--demo.us-east-1.example.test'))!;
    };
    const sources = (r: Rule) => {
      const c = r.Conditions!.find((x) => x.Field === 'source-ip');
      return [...(c?.SourceIpConfig?.Values ?? c?.Values ?? [])].sort();
    };
    const credits = async () =>
      (await reader.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: NODES_ASG, Versions: ['$Default'] }))).LaunchTemplateVersions![0].LaunchTemplateData!
        .CreditSpecification?.CpuCredits;
    // The cluster made by the previous step has the default delay and no source restriction.
    expect(await delay()).toBe('60');
    const first = await rule();
    expect(sources(first)).toEqual([]);

    let res = await k3([...ingressArgs, '--ingress-deregistration-delay', '30', '--ingress-source-cidr', '203.0.113.0/24', '--ingress-source-cidr', '2001:db8::/32', '--node-cpu-credits', 'standard', '--no-wait', '--yes']);
    ok(res);
    expect(await delay()).toBe('30');
    const restricted = await rule();
    expect(restricted.RuleArn).toBe(first.RuleArn);
    expect(sources(restricted)).toEqual(['2001:db8::/32', '203.0.113.0/24']);
    expect(await credits()).toBe('standard');
    res = await k3([...ingressArgs, '--ingress-deregistration-delay', '30', '--ingress-source-cidr', '203.0.113.0/24', '--ingress-source-cidr', '2001:db8::/32', '--node-cpu-credits', 'standard', '--no-wait', '--yes']);
    ok(res);
    expect(res.json.apiCalls?.write).toBe(0);

    // Back to the defaults: delay 60, any source, no CreditSpecification (a new version again).
    res = await k3([...ingressArgs, '--no-wait', '--yes']);
    ok(res);
    expect(await delay()).toBe('60');
    expect(sources(await rule())).toEqual([]);
    expect(await credits()).toBeUndefined();
  });

  test('several ALBs: a rule and a target group on each, an endpoint on the second, then the second dropped', async () => {
    const ingressArgs = ['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--ingress-alb', 'shared', '--ingress-zone', 'example.test'];
    ok(await k3(['alb', 'create', 'second', '--certificate-domain', 'example.test', '--vpc', 'lab', '--yes']));
    let res = await k3([...ingressArgs, '--ingress-alb', 'second', '--no-wait', '--yes']);
    ok(res);
    let inv = await reader.inventory();
    const ours = () => inv['AWS::ElasticLoadBalancingV2::TargetGroup']!.filter((t) => t.tags['k3sctl.io/cluster'] === CLUSTER).map((t) => t.key).sort();
    expect(ours()).toEqual(['k3s-demo-ing', 'k3s-demo-ing2']);
    for (const asg of [CP_ASG, NODES_ASG]) expect([...(item(inv, 'AWS::AutoScaling::AutoScalingGroup', asg)!.attrs.targetGroups as string[])].sort()).toEqual(['k3s-demo-ing', 'k3s-demo-ing2']);
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'shared:443:*--demo.us-east-1.example.test')!.attrs.forward).toEqual(['k3s-demo-ing=1']);
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'second:443:*--demo.us-east-1.example.test')!.attrs.forward).toEqual(['k3s-demo-ing2=1']);
    // Either order is the same declaration: nothing to write.
    res = await k3(['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--ingress-alb', 'second', '--ingress-alb', 'shared', '--ingress-zone', 'example.test', '--no-wait', '--yes']);
    ok(res);
    expect(res.json.apiCalls?.write).toBe(0);

    // An endpoint on the second ALB forwards to the cluster's target group there; while it does, the
    // second ALB cannot be dropped (exit 2, nothing written).
    ok(await k3(['endpoint', 'create', 'shop', '--zone', 'example.test', '--alb', 'second', '--cluster', CLUSTER, '--no-dns', '--yes']));
    inv = await reader.inventory();
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'second:443:shop.example.test')!.attrs.forward).toEqual(['k3s-demo-ing2=1']);
    res = await k3([...ingressArgs, '--no-wait', '--yes']);
    expect({ code: res.code, field: res.json.error?.field }).toEqual({ code: 2, field: '--ingress-alb' });
    expect(res.json.error.apiCalls?.write ?? 0).toBe(0);
    ok(await k3(['endpoint', 'delete', 'shop', '--yes']));

    res = await k3([...ingressArgs, '--no-wait', '--yes']);
    ok(res);
    const deleted = (res.json.changes as { action: string; type: string; name: string }[]).filter((c) => c.action === 'delete').map((c) => `${c.type} ${c.name}`).sort();
    expect(deleted).toEqual(['AWS::ElasticLoadBalancingV2::ListenerRule *--demo.us-east-1.example.test on second', 'AWS::ElasticLoadBalancingV2::TargetGroup k3s-demo-ing2']);
    inv = await reader.inventory();
    expect(ours()).toEqual(['k3s-demo-ing']);
    for (const asg of [CP_ASG, NODES_ASG]) expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', asg)!.attrs.targetGroups).toEqual(['k3s-demo-ing']);
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'second:443:*--demo.us-east-1.example.test')).toBeUndefined();
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'shared:443:*--demo.us-east-1.example.test')).toBeDefined();
    ok(await k3(['alb', 'delete', 'second', '--yes']));
  });

  test('extra security group and target group of the node group, by name: joined, then left; the user\'s own untouched', async () => {
    const ingressArgs = ['cluster', 'create', CLUSTER, '--vpc', 'lab', '--control-planes', '3', '--nodes', '2', '--ingress-alb', 'shared', '--ingress-zone', 'example.test'];
    const monitoring = item(before, 'AWS::EC2::SecurityGroup', `${vpcId}/monitoring`)!;
    const ltGroups = async () =>
      [...((await reader.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: NODES_ASG, Versions: ['$Default'] }))).LaunchTemplateVersions![0]!.LaunchTemplateData!
        .SecurityGroupIds ?? [])];
    let res = await k3([...ingressArgs, '--node-security-group', 'monitoring', '--node-target-group', 'metrics', '--no-wait', '--yes']);
    ok(res);
    let inv = await reader.inventory();
    expect(await ltGroups()).toContain(monitoring.attrs.id);
    expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', NODES_ASG)!.attrs.targetGroups).toEqual(['k3s-demo-ing', 'metrics']);
    expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', CP_ASG)!.attrs.targetGroups).toEqual(['k3s-demo-ing']);
    res = await k3([...ingressArgs, '--node-security-group', 'monitoring', '--node-target-group', 'metrics', '--no-wait', '--yes']);
    ok(res);
    expect(res.json.apiCalls?.write).toBe(0);

    res = await k3([...ingressArgs, '--no-wait', '--yes']);
    ok(res);
    inv = await reader.inventory();
    expect(await ltGroups()).not.toContain(monitoring.attrs.id);
    expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', NODES_ASG)!.attrs.targetGroups).toEqual(['k3s-demo-ing']);
    expect(item(inv, 'AWS::EC2::SecurityGroup', `${vpcId}/monitoring`)).toEqual(monitoring);
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'metrics')).toEqual(item(before, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'metrics'));
  });

  test('endpoint create, describe, weight, delete', async () => {
    let res = await k3(['endpoint', 'create', 'blog', '--zone', 'example.test', '--alb', 'shared', '--cluster', CLUSTER, '--yes']);
    ok(res);
    let inv = await reader.inventory();
    const tg = inv['AWS::ElasticLoadBalancingV2::TargetGroup']!.find((t) => t.tags['k3sctl.io/cluster'] === CLUSTER)!;
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'shared:443:blog.example.test')!.attrs.forward).toEqual([`${tg.key}=1`]);
    expect(inv['AWS::Route53::RecordSet']!.find((r) => r.key.startsWith('blog.example.test. A'))!.attrs.alias).toBe(true);

    res = await k3(['endpoint', 'describe', 'blog']);
    ok(res);
    expect(res.json.endpoint).toMatchObject({ service: 'blog', host: 'blog.example.test', dns: { present: true } });
    expect(res.json.endpoint.clusters).toEqual([expect.objectContaining({ cluster: CLUSTER, weight: 1, targetGroup: tg.key })]);

    res = await k3(['endpoint', 'weight', 'blog', `${CLUSTER}=5`, '--yes']);
    ok(res);
    inv = await reader.inventory();
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'shared:443:blog.example.test')!.attrs.forward).toEqual([`${tg.key}=5`]);

    res = await k3(['endpoint', 'delete', 'blog', '--yes']);
    ok(res);
    inv = await reader.inventory();
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'shared:443:blog.example.test')).toBeUndefined();
    expect(inv['AWS::Route53::RecordSet']!.find((r) => r.key.startsWith('blog.example.test.'))).toBeUndefined();
    expect(item(inv, 'AWS::SSM::Parameter', '/k3sctl/endpoints/blog')).toBeUndefined();
  });

  test('recycle --force replaces every instance and restores each group', async () => {
    const old = (await clusterInstances()).map((i) => i.key);
    const res = await k3(['recycle', CLUSTER, '--force', '--yes']);
    ok(res);
    expect((res.json.replacements as { oldInstanceId: string }[]).map((r) => r.oldInstanceId).sort()).toEqual([...old].sort());
    const now = (await clusterInstances()).map((i) => i.key);
    expect(now).toHaveLength(5);
    expect(now.filter((id) => old.includes(id))).toEqual([]);
    const inv = await reader.inventory();
    expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', CP_ASG)!.attrs).toMatchObject({ min: 3, max: 3, desired: 3, suspended: [] });
    expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', NODES_ASG)!.attrs).toMatchObject({ min: 2, max: 2, desired: 2, suspended: [] });
  });

  test('upgrade: a new launch template version with the new k3s, pinned, every instance replaced', async () => {
    const old = (await clusterInstances()).map((i) => i.key);
    // Per group: the node group's template has more versions (the seed knobs step changed its CPU credits twice).
    const invBefore = await reader.inventory();
    const latestBefore = Object.fromEntries([CP_ASG, NODES_ASG].map((asg) => [asg, item(invBefore, 'AWS::EC2::LaunchTemplate', asg)!.attrs.latestVersion as number]));
    const res = await k3(['upgrade', CLUSTER, '--k3s-version', 'v1.32.2+k3s1', '--yes']);
    ok(res);
    const inv = await reader.inventory();
    for (const asg of [CP_ASG, NODES_ASG]) {
      const ltBefore = latestBefore[asg];
      const lt = item(inv, 'AWS::EC2::LaunchTemplate', asg)!;
      expect(lt.attrs.latestVersion).toBe(ltBefore + 1);
      expect(item(inv, 'AWS::AutoScaling::AutoScalingGroup', asg)!.attrs.launchTemplateVersion).toBe(String(ltBefore + 1));
      const v = await reader.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: asg, Versions: [String(ltBefore + 1)] }));
      const userData = gunzipSync(Buffer.from(v.LaunchTemplateVersions![0]!.LaunchTemplateData!.UserData!, 'base64')).toString('utf8');
      expect(userData).toContain('v1.32.2+k3s1');
    }
    const now = (await clusterInstances()).map((i) => i.key);
    expect(now).toHaveLength(5);
    expect(now.filter((id) => old.includes(id))).toEqual([]);
    expect((res.json.replacements as unknown[]).length).toBe(5);
    const config = (await reader.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/demo/groups/nodes' }))).Parameter!.Value!;
    expect(config).toContain('v1.32.2+k3s1');
  });

  test('cluster delete removes everything the cluster owns and nothing else', async () => {
    const res = await k3(['cluster', 'delete', CLUSTER, '--yes']);
    ok(res);
    const inv = await reader.inventory();
    const owned = Object.entries(inv).flatMap(([kind, items]) => items.filter((i) => i.tags['k3sctl.io/cluster'] === CLUSTER || i.key.includes('/k3sctl/clusters/demo')).map((i) => `${kind} ${i.key}`));
    expect(owned).toEqual([]);
    expect(await clusterInstances()).toEqual([]);
    // The ALB and its listeners stay: they are shared, not the cluster's.
    expect(item(inv, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'shared')).toBeDefined();
  });

  test('alb delete and certificate delete, then the account is exactly as before', async () => {
    ok(await k3(['alb', 'delete', 'shared', '--yes']));
    ok(await k3(['certificate', 'delete', 'example.test', '--yes']));
    expect(await reader.inventory()).toEqual(before);
  });
});
