// A group's extra security groups and target groups in the cluster and group specs (issue 17): the
// file fields and what the flags give, their formats checked before any AWS call (each error names
// the field), duplicates removed, the per-interface limit of 5 security groups with k3sctl's own
// counted, and the stored group that carries the resolved ids (groups stored before still parse).
import { buildClusterSpec, buildGroupSpec, parseClusterSpecFile, type ClusterFile } from '../../src/config/cluster';
import { type StoredGroup } from '../../src/model/cluster';
import { parseStoredGroup, serializeStoredGroup } from '../../src/model/stored';
import { userError } from '../helpers/userError';

const base = { name: 'demo', region: 'us-east-1' };
const cluster = (input: Partial<ClusterFile> = {}) => buildClusterSpec({ ...base, ...input } as ClusterFile & { name: string; region: string });
const withIngress = { ingress: { alb: 'shared', zone: 'example.com' } };
const TG_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/metrics/0123456789abcdef';
const SG = (n: number) => `sg-0123456789abcdef${n}`;
const byName = (spec: ReturnType<typeof cluster>) => Object.fromEntries(spec.groups.map((g) => [g.name, { sgs: g.securityGroups, tgs: g.targetGroups }]));

describe('extra security groups and target groups: input', () => {
  it('gives each group of cluster create its own, without duplicates, and none when not given', () => {
    const spec = cluster({
      controlPlaneSecurityGroups: ['bastion-access'],
      controlPlaneTargetGroups: [TG_ARN],
      nodeSecurityGroups: ['monitoring', SG(1), 'monitoring'],
      nodeTargetGroups: ['metrics', 'metrics', TG_ARN],
    });
    expect(byName(spec)).toEqual({
      'control-plane': { sgs: ['bastion-access'], tgs: [TG_ARN] },
      nodes: { sgs: ['monitoring', SG(1)], tgs: ['metrics', TG_ARN] },
    });
    expect(cluster().groups.map((g) => ['securityGroups' in g, 'targetGroups' in g])).toEqual([
      [false, false],
      [false, false],
    ]);
    const group = buildGroupSpec({ name: 'web', role: 'node', securityGroups: [SG(2), SG(2)], targetGroups: ['web-tg'] });
    expect([group.securityGroups, group.targetGroups]).toEqual([[SG(2)], ['web-tg']]);
  });

  it('reads the file fields of both files (and refuses them where they do not belong)', () => {
    const file = parseClusterSpecFile(
      'cluster',
      'name: demo\ncontrolPlaneSecurityGroups: [a]\ncontrolPlaneTargetGroups: [b]\nnodeSecurityGroups: [c, d]\nnodeTargetGroups: [e]\n',
      'cluster.yaml',
    );
    expect(file.data).toMatchObject({ controlPlaneSecurityGroups: ['a'], controlPlaneTargetGroups: ['b'], nodeSecurityGroups: ['c', 'd'], nodeTargetGroups: ['e'] });
    const group = parseClusterSpecFile('group', 'securityGroups: [sg-01234567]\ntargetGroups: [web]\n', 'group.yaml');
    expect(group.data).toEqual({ securityGroups: ['sg-01234567'], targetGroups: ['web'] });
    expect(() => parseClusterSpecFile('group', 'nodeSecurityGroups: [a]\n', 'group.yaml')).toThrow(/nodeSecurityGroups/);
    expect(() => parseClusterSpecFile('cluster', 'securityGroups: [a]\n', 'cluster.yaml')).toThrow(/securityGroups/);
    expect(() => parseClusterSpecFile('cluster', 'nodeTargetGroups: web\n', 'cluster.yaml')).toThrow(/nodeTargetGroups/);
  });

  it('refuses malformed ids, ARNs and names before any lookup, naming the field', () => {
    const badId = userError(() => cluster({ nodeSecurityGroups: ['sg-12345'] }));
    expect(badId.field).toBe('--node-security-group');
    expect(badId.message).toBe("--node-security-group 'sg-12345' is not a security group id (sg- and 8 or 17 hexadecimal digits)");
    expect(userError(() => cluster({ controlPlaneSecurityGroups: ['sg-0123456789ABCDEF0'] })).field).toBe('--control-plane-security-group');
    expect(userError(() => cluster({ nodeSecurityGroups: [''] })).message).toMatch(/neither a security group id \(sg-\.\.\.\) nor a security group name/);
    expect(userError(() => cluster({ nodeSecurityGroups: ['a'.repeat(257)] })).field).toBe('--node-security-group');

    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef';
    const wrongService = userError(() => cluster({ nodeTargetGroups: [cert] }));
    expect(wrongService.field).toBe('--node-target-group');
    expect(wrongService.message).toBe(`--node-target-group '${cert}' is not a target group ARN (it names an ACM certificate)`);
    const lb = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/0123456789abcdef';
    expect(userError(() => cluster({ controlPlaneTargetGroups: [lb] })).message).toMatch(/not a target group ARN \(it names a network load balancer\)/);
    const otherRegion = userError(() => cluster({ nodeTargetGroups: [TG_ARN.replace('us-east-1', 'eu-west-1')] }));
    expect(otherRegion.message).toMatch(/is in eu-west-1, but this run is in us-east-1/);
    expect(otherRegion.field).toBe('--node-target-group');
    expect(userError(() => cluster({ nodeTargetGroups: ['-bad-'] })).message).toBe("--node-target-group '-bad-' is not a target group name or ARN");
    expect(userError(() => cluster({ nodeTargetGroups: ['x'.repeat(33)] })).field).toBe('--node-target-group');

    expect(userError(() => buildGroupSpec({ name: 'web', role: 'node', securityGroups: ['sg-zz'] })).field).toBe('--node-security-group');
    expect(userError(() => buildGroupSpec({ name: 'cp2', role: 'control-plane', targetGroups: [cert] })).field).toBe('--control-plane-target-group');
    // The group file's fields are named by the file, as every other field.
    const names = (key: string, item?: string | number) => `group.yaml:3 ${key}${item === undefined ? '' : `[${item}]`}`;
    expect(userError(() => buildGroupSpec({ name: 'web', role: 'node', securityGroups: ['ok', 'sg-1'] }, {}, names)).field).toBe('group.yaml:3 securityGroups[1]');
  });

  it('refuses more security groups than a network interface takes beside k3sctl\'s own, saying how many fit', () => {
    const five = [1, 2, 3, 4, 5].map(SG);
    const nodes = userError(() => cluster({ nodeSecurityGroups: five }));
    expect(nodes.field).toBe('--node-security-group');
    expect(nodes.message).toBe(
      "--node-security-group: 5 extra security groups, but at most 4 are allowed: a network interface takes at most 5 (EC2's default quota) and k3sctl adds the cluster's security group",
    );
    expect(nodes.suggestion).toBe('give at most 4 (or merge their rules into fewer groups)');
    // Four fit without the ingress; with it the ALB's downstream group takes one more.
    expect(cluster({ nodeSecurityGroups: five.slice(0, 4) }).groups[1].securityGroups).toHaveLength(4);
    const ingress = userError(() => cluster({ ...withIngress, controlPlaneSecurityGroups: five.slice(0, 4) }));
    expect(ingress.field).toBe('--control-plane-security-group');
    expect(ingress.message).toMatch(/4 extra security groups, but at most 3 are allowed: .* the cluster's security group and the ALB's downstream group$/);
    expect(cluster({ ...withIngress, nodeSecurityGroups: five.slice(0, 3) }).groups[1].securityGroups).toHaveLength(3);
    // Duplicates are not counted twice.
    expect(cluster({ nodeSecurityGroups: [...five.slice(0, 4), SG(1)] }).groups[1].securityGroups).toHaveLength(4);
    expect(userError(() => buildGroupSpec({ name: 'web', role: 'node', securityGroups: five })).message).toMatch(/at most 4 are allowed/);
  });

  it('is kept in the stored group; a group stored without it parses and serializes as before', () => {
    const group: StoredGroup = {
      name: 'nodes', role: 'node', count: 1, instanceType: 't3.small', subnetIds: ['subnet-1'], imageId: 'ami-1', rootDeviceName: '/dev/xvda',
      k3sVersion: 'v1.31.6+k3s1', k3sArgs: [], labels: {}, taints: [], spot: false, rootVolumeSize: 20, rootVolumeType: 'gp3', imdsHopLimit: 1,
    };
    const before = serializeStoredGroup(group);
    expect(before).not.toMatch(/securityGroupIds|targetGroupArns/);
    expect(parseStoredGroup(before, 'p').securityGroupIds).toBeUndefined();
    const withExtras = { ...group, securityGroupIds: [SG(1)], targetGroupArns: [TG_ARN] };
    expect(parseStoredGroup(serializeStoredGroup(withExtras), 'p')).toMatchObject({ securityGroupIds: [SG(1)], targetGroupArns: [TG_ARN] });
    expect(() => parseStoredGroup(JSON.stringify({ ...group, securityGroupIds: 'sg-1' }), 'p')).toThrow(/securityGroupIds/);
  });
});
