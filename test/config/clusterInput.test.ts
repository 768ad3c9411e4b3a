// The `cluster create` and group specs built from flags and files (src/config/cluster.ts): the defaults,
// every check that needs no AWS call (each a UserError naming the field as the user gave it), the flag
// parsers, and the configuration stored in SSM (parsed, serialized, assembled).
import {
  buildClusterSpec,
  buildGroupSpec,
  ClusterFileSchema,
  GroupFileSchema,
  parseClusterSpecFile,
  parseFile,
  parseFilters,
  parseKeyValues,
  type ClusterFile,
  isKubeletRefusedLabel,
} from '../../src/config/cluster';
import { type StoredClusterConfig, type StoredGroup } from '../../src/model/cluster';
import {
  assembleStoredClusterConfig,
  parseStoredClusterConfig,
  parseStoredGroup,
  serializeStoredClusterSettings,
  serializeStoredGroup,
} from '../../src/model/stored';
import type { FieldNames } from '../../src/config/specFile';
import { userError } from '../helpers/userError';

const base = { name: 'demo', region: 'us-east-1' };
const cluster = (input: Partial<ClusterFile> = {}, fields?: Parameters<typeof buildClusterSpec>[1]) =>
  buildClusterSpec({ ...base, ...input } as ClusterFile & { name: string; region: string }, fields);
const refused = (input: Partial<ClusterFile>) => userError(() => cluster(input));
/** Names every field as a file field would be named: `c.yaml KEY` or `c.yaml KEY[ITEM]`. */
const fileFields: FieldNames = (key, item) => `c.yaml ${key}${item === undefined ? '' : `[${item}]`}`;

const defaultGroup = {
  instanceType: 't3.medium',
  labels: {},
  taints: [],
  spot: false,
  k3sVersion: 'v1.31.6+k3s1',
  ami: { os: 'al2023' },
  k3sArgs: [],
  rootVolumeSize: 20,
  rootVolumeType: 'gp3',
  imdsHopLimit: 1,
};

describe('cluster spec defaults', () => {
  it('3 control planes and 2 nodes on t3.medium, al2023, k3s v1.31.6+k3s1, gp3 20 GiB, hop limit 1, nothing explicit', () => {
    expect(cluster()).toStrictEqual({
      name: 'demo',
      region: 'us-east-1',
      vpc: { id: undefined, name: undefined, tags: undefined },
      subnets: {},
      k3sVersion: 'v1.31.6+k3s1',
      keyName: undefined,
      sshCidrs: [],
      apiCidrs: [],
      tlsSans: [],
      groups: [
        { name: 'control-plane', role: 'control-plane', count: 3, ...defaultGroup },
        { name: 'nodes', role: 'node', count: 2, ...defaultGroup },
      ],
      ingress: undefined,
      explicit: { k3sVersion: false, ami: false },
    });
  });

  it('takes every setting given, for both groups where they share it', () => {
    const spec = cluster({
      vpcTags: { env: 'prod' },
      subnetFilters: { 'availability-zone': 'us-east-1a', 'tag:tier': ['a', 'b'] },
      k3sVersion: 'v1.30.2+k3s2',
      k3sArgs: ['--disable=traefik'],
      rootVolumeSize: 100,
      rootVolumeType: 'io2',
      controlPlanes: 5,
      controlPlaneType: 'm7g.large',
      nodes: 0,
      nodeType: 'c7i.2xlarge',
      keyName: 'my key',
      sshCidrs: ['10.0.0.0/8', '10.0.0.0/8', '2001:db8::/32'],
      apiCidrs: ['203.0.113.0/24'],
      tlsSans: ['api.example.com', '10.0.0.1', 'api.example.com', '*.example.com', '2001:db8::1'],
      labels: { workload: 'web' },
      taints: ['dedicated=web:NoSchedule'],
      controlPlaneLabels: { tier: 'control' },
      controlPlaneTaints: ['critical:NoExecute'],
      ingress: { alb: 'shared', zone: 'example.com' },
      amiName: '^my-ami-.*',
      amiOwner: 'self',
    });
    expect(spec.vpc).toStrictEqual({ id: undefined, name: undefined, tags: { env: 'prod' } });
    expect(spec.subnets).toStrictEqual({ filters: { 'availability-zone': ['us-east-1a'], 'tag:tier': ['a', 'b'] } });
    expect(spec.keyName).toBe('my key');
    expect(spec.sshCidrs).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(spec.apiCidrs).toEqual(['203.0.113.0/24']);
    expect(spec.tlsSans).toEqual(['api.example.com', '10.0.0.1', '*.example.com', '2001:db8::1']);
    expect(spec.ingress).toEqual({
      albs: ['shared'],
      zone: 'example.com',
      deregistrationDelaySeconds: 60,
      sourceCidrs: [],
    });
    expect(spec.explicit).toEqual({ k3sVersion: true, ami: true });
    const shared = { k3sVersion: 'v1.30.2+k3s2', k3sArgs: ['--disable=traefik'], rootVolumeSize: 100, rootVolumeType: 'io2', imdsHopLimit: 1, ami: { name: '^my-ami-.*', owner: 'self' } };
    expect(spec.groups).toStrictEqual([
      { name: 'control-plane', role: 'control-plane', count: 5, instanceType: 'm7g.large', labels: { tier: 'control' }, taints: ['critical:NoExecute'], spot: false, ...shared },
      { name: 'nodes', role: 'node', count: 0, instanceType: 'c7i.2xlarge', labels: { workload: 'web' }, taints: ['dedicated=web:NoSchedule'], spot: false, ...shared },
    ]);
  });

  it('--spot puts the node group on spot, never the control planes', () => {
    const [cp, nodes] = cluster({ spot: true }).groups;
    expect(cp.spot).toBe(false);
    expect(nodes.spot).toBe(true);
    expect(cluster({ spot: false }).groups.map((g) => g.spot)).toEqual([false, false]);
  });

  it('explicit: the AMI counts as given by --ami, --ami-name or --os', () => {
    expect(cluster({ ami: 'ami-0123456789abcdef0' }).explicit).toEqual({ k3sVersion: false, ami: true });
    expect(cluster({ os: 'ubuntu-24.04' }).explicit).toEqual({ k3sVersion: false, ami: true });
    expect(cluster({ os: 'ubuntu-24.04' }).groups[1].ami).toEqual({ os: 'ubuntu-24.04' });
    expect(cluster({ ami: 'ami-0123456789abcdef0' }).groups[0].ami).toEqual({ id: 'ami-0123456789abcdef0' });
    expect(cluster({ amiName: 'x' }).groups[0].ami).toStrictEqual({ name: 'x', owner: undefined });
    expect(cluster({ k3sVersion: 'v1.31.6+k3s1' }).explicit).toEqual({ k3sVersion: true, ami: false });
  });

  it('a VPC by id, by name, or by tags (an empty tag map is none)', () => {
    expect(cluster({ vpcId: 'vpc-0123abcd' }).vpc).toEqual({ id: 'vpc-0123abcd' });
    expect(cluster({ vpc: 'main' }).vpc).toEqual({ name: 'main' });
    expect(cluster({ vpcTags: {} }).vpc).toStrictEqual({ id: undefined, name: undefined, tags: undefined });
    expect(cluster({ vpcTags: {}, vpc: 'main' }).vpc.name).toBe('main');
  });

  it('subnets by id (duplicates dropped) or by filters (a single value is a list of one)', () => {
    expect(cluster({ subnetIds: ['subnet-0123abcd', 'subnet-0123abcd', 'subnet-0456abcd'] }).subnets).toStrictEqual({ ids: ['subnet-0123abcd', 'subnet-0456abcd'] });
    expect(cluster({ subnetIds: [], subnetFilters: {} }).subnets).toStrictEqual({});
    expect(cluster({ subnetIds: [], subnetFilters: { 'tag:k3s': 'yes' } }).subnets).toStrictEqual({ filters: { 'tag:k3s': ['yes'] } });
    expect(cluster({ subnetIds: ['subnet-0123abcd'], subnetFilters: {} }).subnets).toStrictEqual({ ids: ['subnet-0123abcd'] });
  });
});

describe('cluster spec checks', () => {
  it.each([
    [{ name: 'Demo' }, 'NAME', "NAME 'Demo' is not a valid cluster name"],
    [{ region: 'us-east' }, '--region', "--region 'us-east' is not an AWS region"],
    [{ vpcId: 'vpc-1', vpc: 'main' }, '--vpc', 'give only one of --vpc-id, --vpc'],
    [{ vpc: 'main', vpcTags: { a: 'b' } }, '--vpc-tag', 'give only one of --vpc, --vpc-tag'],
    [{ vpcId: 'vpc-1' }, '--vpc-id', "--vpc-id 'vpc-1' is not a VPC id"],
    [{ k3sVersion: '1.31' }, '--k3s-version', "--k3s-version '1.31' is not a k3s version (vMAJOR.MINOR.PATCH+k3sN)"],
    [{ controlPlanes: 2 }, '--control-planes', '--control-planes must be odd (1, 3, 5...) so that etcd keeps a quorum, got 2'],
    [{ controlPlanes: 0 }, '--control-planes', '--control-planes must be odd (1, 3, 5...) so that etcd keeps a quorum, got 0'],
    [{ controlPlanes: 1.5 }, '--control-planes', '--control-planes must be a whole number >= 0, got 1.5'],
    [{ nodes: -1 }, '--nodes', '--nodes must be a whole number >= 0, got -1'],
    [{ nodes: 2.5 }, '--nodes', '--nodes must be a whole number >= 0, got 2.5'],
    [{ controlPlaneType: 't3' }, '--control-plane-type', "--control-plane-type 't3' is not an EC2 instance type"],
    [{ nodeType: 'big' }, '--node-type', "--node-type 'big' is not an EC2 instance type"],
    [{ keyName: '' }, '--key-name', "--key-name '' is not a key pair name (1-255 printable ASCII characters)"],
    [{ keyName: 'k'.repeat(256) }, '--key-name', 'is not a key pair name'],
    [{ keyName: 'clé' }, '--key-name', "--key-name 'clé' is not a key pair name"],
    [{ keyName: 'a\nb' }, '--key-name', 'is not a key pair name'],
    [{ tlsSans: ['ok.example.com', 'not a name'] }, '--tls-san', "--tls-san 'not a name' is neither a DNS name nor an IP address"],
    [{ tlsSans: ['api_1.example.com'] }, '--tls-san', "--tls-san 'api_1.example.com' is neither a DNS name nor an IP address"],
    [{ ingress: { alb: '', zone: 'example.com' } }, '--ingress-alb', '--ingress-alb is required with --ingress-zone'],
    [{ ingress: { alb: 'shared', zone: '' } }, '--ingress-zone', '--ingress-zone is required with --ingress-alb'],
    [{ ingress: { alb: '-bad', zone: 'example.com' } }, '--ingress-alb', "--ingress-alb '-bad' is not an ALB name or ARN"],
    [{ ingress: { alb: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/0123456789abcdef', zone: 'example.com' } }, '--ingress-alb', 'is in eu-west-1, but this run is in us-east-1'],
    [{ ingress: { alb: 'shared', zone: '*.example.com' } }, '--ingress-zone', "--ingress-zone '*.example.com' is neither a hosted zone id"],
    [{ sshCidrs: ['10.0.0.1/8'] }, '--ssh-cidr', '--ssh-cidr 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?'],
    [{ apiCidrs: ['0.0.0.0/0', 'x'] }, '--api-cidr', "--api-cidr 'x' is not a CIDR block"],
    [{ subnetIds: ['subnet-1'] }, '--subnet-id', "--subnet-id 'subnet-1' is not a subnet id"],
    [{ subnetIds: ['subnet-0123abcd'], subnetFilters: { 'availability-zone': 'us-east-1a' } }, '--subnet-filter', 'give subnets by --subnet-id or by --subnet-filter, not both'],
    [{ subnetFilters: { 'availability zone': 'us-east-1a' } }, '--subnet-filter', "--subnet-filter 'availability zone=us-east-1a' is not an EC2 filter NAME=VALUE"],
    [{ subnetFilters: { 'availability-zone': ['us-east-1a', ''] } }, '--subnet-filter', "--subnet-filter 'availability-zone=us-east-1a,' is not an EC2 filter NAME=VALUE"],
    [{ subnetFilters: { '': 'x' } }, '--subnet-filter', "--subnet-filter '=x' is not an EC2 filter NAME=VALUE"],
    [{ labels: { 'bad key!': 'v' } }, '--label', "--label 'bad key!=v' is not a valid Kubernetes label"],
    [{ labels: { app: 'bad value!' } }, '--label', "--label 'app=bad value!' is not a valid Kubernetes label"],
    [{ controlPlaneLabels: { app: '-x' } }, 'controlPlaneLabels', "controlPlaneLabels 'app=-x' is not a valid Kubernetes label"],
    [{ taints: ['oops'] }, '--taint', "--taint 'oops' is not KEY[=VALUE]:NoSchedule|PreferNoSchedule|NoExecute"],
    [{ taints: ['a=b:Sometimes'] }, '--taint', "--taint 'a=b:Sometimes' is not KEY[=VALUE]:NoSchedule|PreferNoSchedule|NoExecute"],
    [{ taints: ['a=b:NoSchedule', 'x:NoSchedulex'] }, '--taint', "--taint 'x:NoSchedulex' is not KEY"],
    [{ taints: ['-a:NoSchedule'] }, '--taint', "--taint '-a:NoSchedule' is not KEY"],
    [{ taints: ['a/:NoSchedule'] }, '--taint', "--taint 'a/:NoSchedule' is not KEY"],
    [{ taints: ['a=b c:NoSchedule'] }, '--taint', "--taint 'a=b c:NoSchedule' is not KEY"],
    [{ taints: ['bad_.x/y:NoSchedule'] }, '--taint', "--taint taint key 'bad_.x/y' is not a valid Kubernetes key"],
    [{ controlPlaneTaints: ['oops'] }, 'controlPlaneTaints', "controlPlaneTaints 'oops' is not KEY"],
    [{ k3sArgs: ['--token=x'] }, '--k3s-arg', '--k3s-arg --token is managed by k3sctl'],
    [{ rootVolumeSize: 7 }, '--root-volume-size', '--root-volume-size must be 8-16384 GiB, got 7'],
    [{ rootVolumeSize: 16385 }, '--root-volume-size', '--root-volume-size must be 8-16384 GiB, got 16385'],
    [{ rootVolumeSize: 8.5 }, '--root-volume-size', '--root-volume-size must be 8-16384 GiB, got 8.5'],
    [{ rootVolumeType: 'ssd' as never }, '--root-volume-type', "--root-volume-type 'ssd' is not one of gp3, gp2, io1, io2, st1, sc1, standard"],
    [{ ami: 'ami-0123abcd', amiName: 'x' }, '--ami-name', 'give only one of --ami, --ami-name'],
    [{ amiName: 'x', os: 'al2023' }, '--os', 'give only one of --ami-name, --os'],
    [{ amiOwner: 'self' }, '--ami-owner', '--ami-owner needs --ami-name'],
    [{ ami: 'ami-1' }, '--ami', "--ami 'ami-1' is not an AMI id"],
    [{ amiName: '([unclosed' }, '--ami-name', "--ami-name '([unclosed' is not a regular expression"],
    [{ amiName: 'x', amiOwner: 'someone' }, '--ami-owner', "--ami-owner 'someone' is not an AMI owner"],
    [{ os: 'windows' as never }, '--os', "--os 'windows' is not one of al2023, ubuntu-24.04"],
  ] as [Partial<ClusterFile>, string, string][])('%j is refused naming %s', (input, field, message) => {
    const e = refused(input);
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it('accepts the bounds: 1 control plane, 0 nodes, 8 and 16384 GiB, 255-character key names', () => {
    expect(cluster({ controlPlanes: 1, nodes: 0 }).groups.map((g) => g.count)).toEqual([1, 0]);
    expect(cluster({ rootVolumeSize: 8 }).groups[0].rootVolumeSize).toBe(8);
    expect(cluster({ rootVolumeSize: 16384 }).groups[0].rootVolumeSize).toBe(16384);
    expect(cluster({ keyName: 'k'.repeat(255) }).keyName).toHaveLength(255);
    expect(cluster({ keyName: '~ key' }).keyName).toBe('~ key');
    for (const type of ['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard'] as const) expect(cluster({ rootVolumeType: type }).groups[1].rootVolumeType).toBe(type);
  });

  it('names the list item at fault, and the second of two AMI choices', () => {
    expect(userError(() => cluster({ tlsSans: ['ok.example.com', 'bad name'] }, fileFields)).field).toBe('c.yaml tlsSans[1]');
    expect(userError(() => cluster({ sshCidrs: ['10.0.0.0/8', 'x'] }, fileFields)).field).toBe('c.yaml sshCidrs[1]');
    expect(userError(() => cluster({ apiCidrs: ['x'] }, fileFields)).field).toBe('c.yaml apiCidrs[0]');
    expect(userError(() => cluster({ taints: ['a:NoSchedule', 'b'] }, fileFields)).field).toBe('c.yaml taints[1]');
    expect(userError(() => cluster({ k3sArgs: ['--disable=traefik', 'x'] }, fileFields)).message).toBe("c.yaml k3sArgs[1] 'x' must be a long option such as --disable=traefik");
    expect(userError(() => cluster({ k3sArgs: ['x'] }, fileFields)).field).toBe('c.yaml k3sArgs[0]');
    expect(userError(() => cluster({ labels: { a: 'b', 'bad!': 'c' } }, fileFields)).field).toBe('c.yaml labels[bad!]');
    expect(userError(() => cluster({ subnetIds: ['subnet-0123abcd', 'x'] }, fileFields)).field).toBe('c.yaml subnetIds[1]');
    expect(userError(() => cluster({ subnetFilters: { 'a b': 'x' } }, fileFields)).field).toBe('c.yaml subnetFilters[a b]');
    expect(userError(() => cluster({ ami: 'ami-0123abcd', os: 'al2023', amiName: 'x' })).message).toBe('give only one of --ami, --ami-name, --os');
    expect(userError(() => cluster({ ami: 'ami-0123abcd', os: 'al2023' }, fileFields)).field).toBe('c.yaml os');
    expect(userError(() => cluster({ vpcId: 'vpc-0123abcd', vpcTags: { a: 'b' } })).message).toBe('give only one of --vpc-id, --vpc-tag');
  });

  it('says what to try', () => {
    expect(refused({ k3sVersion: '1.31' }).suggestion).toBe('use a k3s release such as v1.31.6+k3s1');
    expect(refused({ labels: { 'bad key!': 'v' } }).suggestion).toBe('a key is [DNS-prefix/]name; name and value are at most 63 of A-Z a-z 0-9 - _ . (alphanumeric at both ends)');
    expect(refused({ labels: { 'node-role.kubernetes.io/worker': '' } }).suggestion).toBe(
      'under kubernetes.io and k8s.io only keys under kubelet.kubernetes.io/ and node.kubernetes.io/ (or a subdomain of them) and ' +
        'beta.kubernetes.io/arch, beta.kubernetes.io/instance-type, beta.kubernetes.io/os, failure-domain.beta.kubernetes.io/region, failure-domain.beta.kubernetes.io/zone, ' +
        'kubernetes.io/arch, kubernetes.io/hostname, kubernetes.io/os, node.kubernetes.io/instance-type, topology.kubernetes.io/region, topology.kubernetes.io/zone are allowed; ' +
        'use your own prefix (e.g. example.com/role=worker), or set the label with kubectl label node after the node joined',
    );
    expect(refused({ imdsHopLimit: 0 }).suggestion).toBe('1 (the default) keeps pods away from the node role; 2 lets pods in pod networking reach IMDS');
    expect(refused({ taints: ['oops'] }).suggestion).toBe('e.g. dedicated=gpu:NoSchedule');
    expect(refused({ controlPlanes: 2 }).suggestion).toBe('use 1 for a test cluster or 3 for high availability');
    expect(refused({ subnetFilters: { 'a b': 'x' } }).suggestion).toBe('e.g. availability-zone=us-east-1a');
  });

  it('flag overrides rename some fields and keep the others', () => {
    const e = userError(() => cluster({ nodes: -1 }, { nodes: 'nodes' }));
    expect(e.field).toBe('nodes');
    expect(e.message).toBe('nodes must be a whole number >= 0, got -1');
    expect(userError(() => cluster({ nodeType: 'x' }, { nodes: 'nodes' })).field).toBe('--node-type');
  });
});

describe('group specs', () => {
  it('defaults: 2 nodes or 1 control plane, t3.medium, the cluster\'s k3s version (empty), on demand', () => {
    const node = buildGroupSpec({ name: 'web', role: 'node' });
    expect(node).toStrictEqual({ name: 'web', role: 'node', count: 2, subnets: undefined, ...defaultGroup, k3sVersion: '' });
    expect(buildGroupSpec({ name: 'cp2', role: 'control-plane' })).toStrictEqual({ name: 'cp2', role: 'control-plane', count: 1, subnets: undefined, ...defaultGroup, k3sVersion: '' });
    expect(buildGroupSpec({ name: 'web', role: 'node' }, { k3sVersion: 'v1.30.1+k3s1' }).k3sVersion).toBe('v1.30.1+k3s1');
    expect(buildGroupSpec({ name: 'web', role: 'node', k3sVersion: 'v1.32.0+k3s1' }, { k3sVersion: 'v1.30.1+k3s1' }).k3sVersion).toBe('v1.32.0+k3s1');
  });

  it('takes what is given', () => {
    const g = buildGroupSpec({
      name: 'gpu',
      role: 'node',
      count: 4,
      instanceType: 'g5.xlarge',
      subnetFilters: { 'availability-zone': 'us-east-1b' },
      labels: { gpu: 'true' },
      taints: ['gpu=true:NoSchedule'],
      spot: true,
      ami: 'ami-0123abcd',
      rootVolumeSize: 200,
    });
    expect(g).toMatchObject({ count: 4, instanceType: 'g5.xlarge', subnets: { filters: { 'availability-zone': ['us-east-1b'] } }, labels: { gpu: 'true' }, taints: ['gpu=true:NoSchedule'], spot: true, ami: { id: 'ami-0123abcd' }, rootVolumeSize: 200 });
    expect(buildGroupSpec({ name: 'cp', role: 'control-plane', instanceType: 'm7g.large', spot: false }).instanceType).toBe('m7g.large');
  });

  it.each([
    [{ name: 'Web', role: 'node' }, 'GROUP', "GROUP 'Web' is not a valid group name"],
    [{ name: 'cp', role: 'control-plane', count: 2 }, '--control-planes', '--control-planes must be odd'],
    [{ name: 'cp', role: 'control-plane', count: 0 }, '--control-planes', '--control-planes must be odd'],
    [{ name: 'web', role: 'node', count: -2 }, '--nodes', '--nodes must be a whole number >= 0, got -2'],
    [{ name: 'cp', role: 'control-plane', spot: true }, 'spot', 'spot: control-plane groups cannot run on spot instances'],
    [{ name: 'cp', role: 'control-plane', instanceType: 'x' }, '--control-plane-type', "--control-plane-type 'x' is not an EC2 instance type"],
    [{ name: 'web', role: 'node', instanceType: 'x' }, '--node-type', "--node-type 'x' is not an EC2 instance type"],
    [{ name: 'web', role: 'node', k3sVersion: 'latest' }, '--k3s-version', "--k3s-version 'latest' is not a k3s version"],
    [{ name: 'web', role: 'node', subnetIds: ['subnet-x'] }, '--subnet-id', "--subnet-id 'subnet-x' is not a subnet id"],
    [{ name: 'web', role: 'node', labels: { 'kubernetes.io/role': 'web' } }, '--label', "--label 'kubernetes.io/role' is in the reserved"],
    [{ name: 'web', role: 'node', taints: ['x'] }, '--taint', "--taint 'x' is not KEY"],
    [{ name: 'web', role: 'node', imdsHopLimit: 0 }, '--imds-hop-limit', '--imds-hop-limit must be a whole number 1-64 (EC2\'s range), got 0'],
    [{ name: 'web', role: 'node', rootVolumeType: 'nvme' }, '--root-volume-type', "--root-volume-type 'nvme' is not one of"],
  ] as [Parameters<typeof buildGroupSpec>[0], string, string][])('%j is refused naming %s', (input, field, message) => {
    const e = userError(() => buildGroupSpec(input));
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it('a spot control-plane group from a file names the file field', () => {
    expect(userError(() => buildGroupSpec({ name: 'cp', role: 'control-plane', spot: true }, {}, fileFields)).message).toBe('c.yaml spot: control-plane groups cannot run on spot instances');
  });
});

describe('reserved label namespaces', () => {
  it('a key without a prefix is never reserved, whatever it ends with', () => {
    expect(isKubeletRefusedLabel('x.kubernetes.iox')).toBe(false);
    expect(isKubeletRefusedLabel('kubernetes.io')).toBe(false);
    expect(cluster({ labels: { 'x.kubernetes.iox': 'y' } }).groups[1].labels).toEqual({ 'x.kubernetes.iox': 'y' });
  });
});

describe('flag parsers', () => {
  it('KEY=VALUE pairs: the first = splits, an empty value is allowed, none given is undefined', () => {
    expect(parseKeyValues(undefined, '--label')).toBeUndefined();
    expect(parseKeyValues([], '--label')).toBeUndefined();
    expect(parseKeyValues(['a=1', 'b=x=y', 'c=', 'a=2'], '--label')).toEqual({ a: '2', b: 'x=y', c: '' });
    for (const bad of ['novalue', '=x']) {
      const e = userError(() => parseKeyValues([bad], '--vpc-tag'));
      expect(e.message).toBe(`--vpc-tag '${bad}' is not KEY=VALUE`);
      expect(e.field).toBe('--vpc-tag');
    }
  });

  it('subnet filters NAME=VALUE[,VALUE]: repeated names add values', () => {
    expect(parseFilters(undefined, '--subnet-filter')).toBeUndefined();
    expect(parseFilters([], '--subnet-filter')).toBeUndefined();
    expect(parseFilters(['availability-zone=us-east-1a,us-east-1b', 'tag:tier=public', 'availability-zone=us-east-1c'], 'f')).toEqual({
      'availability-zone': ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      'tag:tier': ['public'],
    });
    expect(parseFilters(['a=b=c'], 'f')).toEqual({ a: ['b=c'] });
    for (const bad of ['novalue', '=x', 'name=']) {
      const e = userError(() => parseFilters([bad], '--subnet-filter'));
      expect(e.message).toBe(`--subnet-filter '${bad}' is not NAME=VALUE (e.g. availability-zone=us-east-1a)`);
      expect(e.field).toBe('--subnet-filter');
    }
  });
});

describe('cluster and group files', () => {
  it('a group file cites the group schema, a cluster file the cluster schema', () => {
    expect(userError(() => parseFile(GroupFileSchema, 'nodes: 3\n', 'g.yaml')).suggestion).toBe('the fields of a group file are ' + Object.keys(GroupFileSchema.shape).join(', ') + ' (see schema/group.schema.json)');
    expect(userError(() => parseFile(ClusterFileSchema, 'count: 3\n', 'c.yaml')).suggestion).toBe('the fields of a cluster file are ' + Object.keys(ClusterFileSchema.shape).join(', ') + ' (see schema/cluster.schema.json)');
    expect(userError(() => parseClusterSpecFile('group', 'count: x\n', 'g.yaml', '-f')).suggestion).toBe('see schema/group.schema.json');
    expect(userError(() => parseClusterSpecFile('cluster', 'nodes: [\n', 'c.yaml', '-f')).message).toMatch(/^-f c\.yaml:\d+ is not valid YAML: /);
    expect(parseClusterSpecFile('cluster', 'nodes: 3\n', 'c.yaml').at(['nodes'])).toBe('c.yaml:1 nodes');
    expect(userError(() => parseClusterSpecFile('cluster', 'nodes: [\n', 'c.yaml')).field).toBe('--file');
  });
});

describe('the stored configuration', () => {
  const group: StoredGroup = {
    name: 'nodes',
    role: 'node',
    count: 2,
    instanceType: 't3.medium',
    subnetIds: ['subnet-0123abcd'],
    imageId: 'ami-0123abcd',
    rootDeviceName: '/dev/xvda',
    k3sVersion: 'v1.31.6+k3s1',
    k3sArgs: [],
    labels: { z: '1', a: '2' },
    taints: [],
    spot: false,
    rootVolumeSize: 20,
    rootVolumeType: 'gp3',
  };
  const settings = {
    name: 'demo',
    region: 'us-east-1',
    vpcId: 'vpc-0123abcd',
    subnetIds: ['subnet-0123abcd'],
    k3sVersion: 'v1.31.6+k3s1',
    sshCidrs: [],
    apiCidrs: [],
    tlsSans: ['b', 'a'],
  };

  it('a version-2 settings parameter has no groups; a version-1 one holds them inline (legacy)', () => {
    expect(parseStoredClusterConfig(JSON.stringify({ version: 2, ...settings }), '/p')).toStrictEqual({ version: 2, ...settings, groups: [] });
    const legacy = parseStoredClusterConfig(JSON.stringify({ version: 1, ...settings, groups: [group] }), '/p');
    expect(legacy).toStrictEqual({ version: 1, ...settings, groups: [group], legacyGroups: true });
    expect(parseStoredClusterConfig(JSON.stringify({ version: 1, ...settings }), '/p').groups).toEqual([]);
  });

  it('a parameter that is not JSON, or not a configuration, is reported naming it', () => {
    const notJson = userError(() => parseStoredClusterConfig('{', '/k3sctl/clusters/demo/config'));
    expect(notJson.message).toBe('/k3sctl/clusters/demo/config does not hold JSON');
    expect(notJson.suggestion).toBe('delete and re-create the cluster, or fix the parameter');
    expect(userError(() => parseStoredClusterConfig(JSON.stringify({ version: 3, ...settings }), '/c')).message).toMatch(/^\/c is not a k3sctl cluster configuration: .*version/s);
    expect(userError(() => parseStoredGroup('nope', '/g')).message).toBe('/g does not hold JSON');
    expect(userError(() => parseStoredGroup(JSON.stringify({ ...group, count: -1 }), '/g')).message).toMatch(/^\/g is not a k3sctl group configuration: .*count/s);
    expect(parseStoredGroup(JSON.stringify(group), '/g')).toStrictEqual(group);
  });

  it('serializes canonically: sorted keys at every level, version 2, no groups, nothing undefined', () => {
    const config: StoredClusterConfig = { version: 1, ...settings, keyName: undefined, groups: [group], legacyGroups: true };
    expect(serializeStoredClusterSettings(config)).toBe(
      '{"apiCidrs":[],"k3sVersion":"v1.31.6+k3s1","name":"demo","region":"us-east-1","sshCidrs":[],"subnetIds":["subnet-0123abcd"],"tlsSans":["b","a"],"version":2,"vpcId":"vpc-0123abcd"}',
    );
    const json = serializeStoredGroup(group);
    expect(json).toBe(
      '{"count":2,"imageId":"ami-0123abcd","instanceType":"t3.medium","k3sArgs":[],"k3sVersion":"v1.31.6+k3s1","labels":{"a":"2","z":"1"},"name":"nodes","role":"node","rootDeviceName":"/dev/xvda","rootVolumeSize":20,"rootVolumeType":"gp3","spot":false,"subnetIds":["subnet-0123abcd"],"taints":[]}',
    );
    expect(parseStoredGroup(json, '/g')).toEqual(group);
  });

  it('assembles the groups: group parameters win over inline groups, sorted by name', () => {
    const inline = parseStoredClusterConfig(JSON.stringify({ version: 1, ...settings, groups: [group, { ...group, name: 'web' }] }), '/p');
    const assembled = assembleStoredClusterConfig(inline, [{ ...group, count: 5 }, { ...group, name: 'control-plane', role: 'control-plane', count: 3 }]);
    expect(assembled.groups.map((g) => [g.name, g.count])).toEqual([
      ['control-plane', 3],
      ['nodes', 5],
      ['web', 2],
    ]);
    expect(assembled.name).toBe('demo');
  });
});
