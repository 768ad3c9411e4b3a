// Validation of cluster and group specs that needs no AWS call: node labels the kubelet refuses to set
// on its own node (the kubernetes.io / k8s.io namespaces), and the IMDSv2 hop limit.
import {
  buildClusterSpec,
  buildGroupSpec,
  ClusterFileSchema,
  DEFAULT_IMDS_HOP_LIMIT,
  GroupFileSchema,
  isKubeletRefusedLabel,
  parseFile,
} from '../../src/config/cluster';
import { parseStoredGroup } from '../../src/model/stored';
import { userError } from '../helpers/userError';


describe('node labels the kubelet refuses', () => {
  it.each([
    'node-role.kubernetes.io/worker',
    'node-role.kubernetes.io/control-plane',
    'kubernetes.io/role',
    'kubernetes.io/instance-type',
    'app.kubernetes.io/name',
    'node-restriction.kubernetes.io/pool',
    'k8s.io/owner',
    'example.k8s.io/x',
    'beta.kubernetes.io/fluentd-ds-ready',
    'failure-domain.kubernetes.io/zone',
  ])('refuses %s', (key) => {
    expect(isKubeletRefusedLabel(key)).toBe(true);
  });

  it.each([
    'workload',
    'example.com/role',
    'mykubernetes.io/x',
    'kubernetes.io.example.com/x',
    'kubernetes.io/hostname',
    'kubernetes.io/arch',
    'kubernetes.io/os',
    'beta.kubernetes.io/arch',
    'beta.kubernetes.io/os',
    'beta.kubernetes.io/instance-type',
    'failure-domain.beta.kubernetes.io/zone',
    'failure-domain.beta.kubernetes.io/region',
    'topology.kubernetes.io/zone',
    'topology.kubernetes.io/region',
    'node.kubernetes.io/instance-type',
    'node.kubernetes.io/pool',
    'kubelet.kubernetes.io/anything',
    'team.node.kubernetes.io/owner',
    'x.kubelet.kubernetes.io/y',
  ])('allows %s', (key) => {
    expect(isKubeletRefusedLabel(key)).toBe(false);
  });

  it('cluster create: --label names the flag and the allowed prefixes', () => {
    const e = userError(() => buildClusterSpec({ name: 'lbl', region: 'us-east-1', labels: { 'node-role.kubernetes.io/worker': 'true' } }));
    expect(e.field).toBe('--label');
    expect(e.message).toMatch(/--label 'node-role\.kubernetes\.io\/worker' is in the reserved kubernetes\.io \/ k8s\.io namespace/);
    expect(e.suggestion).toMatch(/node\.kubernetes\.io\//);
    expect(e.suggestion).toMatch(/kubelet\.kubernetes\.io\//);
    expect(e.suggestion).toMatch(/topology\.kubernetes\.io\/zone/);
  });

  it('cluster file: `labels` and `controlPlaneLabels` are named as file fields', () => {
    expect(userError(() => buildClusterSpec({ name: 'lbl', region: 'us-east-1', labels: { 'k8s.io/x': 'y' } }, { labels: 'labels' })).field).toBe('labels');
    const cp = userError(() => buildClusterSpec({ name: 'lbl', region: 'us-east-1', controlPlaneLabels: { 'node-role.kubernetes.io/master': 'true' } }));
    expect(cp.field).toBe('controlPlaneLabels');
    expect(cp.message).toMatch(/^controlPlaneLabels 'node-role\.kubernetes\.io\/master'/);
  });

  it('group add: --label or the group file field `labels`', () => {
    expect(userError(() => buildGroupSpec({ name: 'web', role: 'node', labels: { 'node-role.kubernetes.io/web': '' } })).field).toBe('--label');
    expect(userError(() => buildGroupSpec({ name: 'web', role: 'node', labels: { 'kubernetes.io/role': 'web' } }, {}, { labels: 'labels' })).field).toBe('labels');
  });

  it('allowed labels and taints in reserved namespaces pass', () => {
    const spec = buildClusterSpec({
      name: 'lbl',
      region: 'us-east-1',
      labels: { 'node.kubernetes.io/pool': 'a', workload: 'web' },
      // The kubelet registers with any taint key (NodeRestriction only forbids changing them later).
      controlPlaneTaints: ['node-role.kubernetes.io/control-plane=true:NoSchedule'],
    });
    expect(spec.groups.find((g) => g.role === 'node')!.labels).toEqual({ 'node.kubernetes.io/pool': 'a', workload: 'web' });
    expect(spec.groups.find((g) => g.role === 'control-plane')!.taints).toEqual(['node-role.kubernetes.io/control-plane=true:NoSchedule']);
  });
});

describe('IMDSv2 hop limit', () => {
  it('defaults to 1 for every group', () => {
    expect(DEFAULT_IMDS_HOP_LIMIT).toBe(1);
    expect(buildClusterSpec({ name: 'hop', region: 'us-east-1' }).groups.map((g) => g.imdsHopLimit)).toEqual([1, 1]);
    expect(buildGroupSpec({ name: 'extra', role: 'node' }).imdsHopLimit).toBe(1);
  });

  it('takes 1-64 from the flag or the file, for the cluster file and the group file', () => {
    expect(buildClusterSpec({ name: 'hop', region: 'us-east-1', imdsHopLimit: 2 }).groups.map((g) => g.imdsHopLimit)).toEqual([2, 2]);
    expect(buildGroupSpec({ name: 'extra', role: 'control-plane', count: 1, imdsHopLimit: 64 }).imdsHopLimit).toBe(64);
    expect(parseFile(ClusterFileSchema, 'imdsHopLimit: 2\n', 'cluster.yaml').imdsHopLimit).toBe(2);
    expect(parseFile(GroupFileSchema, 'imdsHopLimit: 3\n', 'group.yaml').imdsHopLimit).toBe(3);
  });

  it.each([0, 65, 1.5, -1])('refuses %d naming --imds-hop-limit', (n) => {
    const e = userError(() => buildClusterSpec({ name: 'hop', region: 'us-east-1', imdsHopLimit: n }));
    expect(e.field).toBe('--imds-hop-limit');
    expect(e.message).toMatch(/1-64/);
    expect(userError(() => buildGroupSpec({ name: 'g', role: 'node', imdsHopLimit: n })).field).toBe('--imds-hop-limit');
  });

  it('refuses an out-of-range file field naming it', () => {
    expect(userError(() => parseFile(ClusterFileSchema, 'imdsHopLimit: 0\n', 'cluster.yaml')).field).toBe('cluster.yaml:1 imdsHopLimit');
    expect(userError(() => parseFile(GroupFileSchema, 'count: 1\nimdsHopLimit: 65\n', 'group.yaml')).field).toBe('group.yaml:2 imdsHopLimit');
  });

  it('reads a group stored before the field existed without it (its launch template keeps hop limit 2)', () => {
    const legacy = {
      name: 'nodes',
      role: 'node',
      count: 2,
      instanceType: 't3.medium',
      subnetIds: ['subnet-0123456789abcdef0'],
      imageId: 'ami-0a3c5e7f9b1d2f401',
      rootDeviceName: '/dev/xvda',
      k3sVersion: 'v1.31.6+k3s1',
      k3sArgs: [],
      labels: {},
      taints: [],
      spot: false,
      rootVolumeSize: 20,
      rootVolumeType: 'gp3',
    };
    expect(parseStoredGroup(JSON.stringify(legacy), 'p').imdsHopLimit).toBeUndefined();
    expect(parseStoredGroup(JSON.stringify({ ...legacy, imdsHopLimit: 2 }), 'p').imdsHopLimit).toBe(2);
  });
});
