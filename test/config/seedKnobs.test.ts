// The seed modules' knobs in the cluster and group specs (issue 17, part A): CPU credits per group
// (burstable families only), the ingress target group's deregistration delay (default 60 s, 0-3600)
// and the ingress rule's source CIDRs (IPv4 and IPv6, canonical, at most 4 beside the host header),
// with the stored configuration that carries them (the file's field names: test/cli/badInput.test.ts).
import {
  buildClusterSpec,
  buildGroupSpec,
  DEFAULT_DEREGISTRATION_DELAY,
  isBurstableType,
  MAX_INGRESS_SOURCE_CIDRS,
  type ClusterFile,
} from '../../src/config/cluster';
import { type StoredClusterConfig, type StoredGroup } from '../../src/model/cluster';
import {
  parseStoredClusterConfig,
  parseStoredGroup,
  serializeStoredClusterSettings,
  serializeStoredGroup,
} from '../../src/model/stored';
import { userError } from '../helpers/userError';

const base = { name: 'demo', region: 'us-east-1' };
const cluster = (input: Partial<ClusterFile> = {}) => buildClusterSpec({ ...base, ...input } as ClusterFile & { name: string; region: string });
const ingress = (more: Partial<NonNullable<ClusterFile['ingress']>> = {}) => ({ ingress: { alb: 'shared', zone: 'example.com', ...more } });
/** A stored cluster configuration without groups or ingress. */
const storedSettings = { version: 2 as const, name: 'demo', region: 'us-east-1', vpcId: 'vpc-1', subnetIds: [], k3sVersion: 'v1.31.6+k3s1', sshCidrs: [], apiCidrs: [], tlsSans: [], groups: [] };

describe('CPU credits', () => {
  it('knows the burstable families', () => {
    expect(['t2.micro', 't3.medium', 't3a.large', 't4g.small'].map(isBurstableType)).toEqual([true, true, true, true]);
    expect(['m5.large', 'c6g.large', 't1.micro', 'x2gd.medium', 'm7i-flex.large'].map(isBurstableType)).toEqual([false, false, false, false, false]);
  });

  it('sets each group its own option, and none when not given', () => {
    const spec = cluster({ controlPlaneCpuCredits: 'standard', nodeType: 't4g.large', nodeCpuCredits: 'unlimited' });
    expect(Object.fromEntries(spec.groups.map((g) => [g.name, g.cpuCredits]))).toEqual({ 'control-plane': 'standard', nodes: 'unlimited' });
    expect(cluster().groups.map((g) => 'cpuCredits' in g)).toEqual([false, false]);
    expect(buildGroupSpec({ name: 'web', role: 'node', instanceType: 't3a.small', cpuCredits: 'standard' }).cpuCredits).toBe('standard');
  });

  it('refuses a type without CPU credits, naming the field, the type and what is allowed', () => {
    const e = userError(() => cluster({ nodeType: 'm5.large', nodeCpuCredits: 'standard' }));
    expect(e.field).toBe('--node-cpu-credits');
    expect(e.message).toBe('--node-cpu-credits applies to burstable instance types only (t2, t3, t3a, t4g families); --node-type is m5.large, which has no CPU credits');
    // The default type of the other group (t3.medium) is burstable: only the node group is refused.
    expect(userError(() => cluster({ controlPlaneType: 'c5.large', controlPlaneCpuCredits: 'unlimited' })).field).toBe('--control-plane-cpu-credits');
    const cp = userError(() => buildGroupSpec({ name: 'cp2', role: 'control-plane', instanceType: 'm6g.large', cpuCredits: 'unlimited' }));
    expect(cp.field).toBe('--control-plane-cpu-credits');
    expect(cp.message).toContain('--control-plane-type is m6g.large');
    expect(userError(() => cluster({ nodeCpuCredits: 'boost' as never })).message).toBe("--node-cpu-credits 'boost' is not one of standard, unlimited");
    expect(e.suggestion).toBe('drop --node-cpu-credits, or pick a burstable type such as t3.medium');
    expect(userError(() => cluster({ controlPlaneType: 'c5.large', controlPlaneCpuCredits: 'unlimited' })).message).toBe(
      '--control-plane-cpu-credits applies to burstable instance types only (t2, t3, t3a, t4g families); --control-plane-type is c5.large, which has no CPU credits',
    );
    const node = userError(() => buildGroupSpec({ name: 'web', role: 'node', instanceType: 'c5.large', cpuCredits: 'standard' }));
    expect(node.field).toBe('--node-cpu-credits');
    expect(node.message).toBe('--node-cpu-credits applies to burstable instance types only (t2, t3, t3a, t4g families); --node-type is c5.large, which has no CPU credits');
  });

  it('says what the deregistration delay and the source CIDRs allow, and what to do', () => {
    const delay = userError(() => cluster(ingress({ deregistrationDelay: 3601 })));
    expect(delay.message).toBe("--ingress-deregistration-delay must be a whole number of seconds 0-3600 (ELBv2's range), got 3601");
    expect(delay.suggestion).toBe('60 (the default) lets in-flight requests finish; 0 drops them at once');
    const five = ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'];
    const cidrs = userError(() => cluster(ingress({ sourceCidrs: five })));
    expect(cidrs.message).toBe(
      '--ingress-source-cidr: 5 CIDRs, but the ingress rule takes at most 4: an ALB rule has at most 5 condition values and its host header uses one',
    );
    expect(cidrs.suggestion).toBe('give at most 4 CIDRs (merge neighbouring ranges into a shorter prefix)');
  });

  it('is kept in the stored group (absent when not given)', () => {
    const group: StoredGroup = {
      name: 'nodes', role: 'node', count: 1, instanceType: 't3.small', subnetIds: ['subnet-1'], imageId: 'ami-1', rootDeviceName: '/dev/xvda',
      k3sVersion: 'v1.31.6+k3s1', k3sArgs: [], labels: {}, taints: [], spot: false, rootVolumeSize: 20, rootVolumeType: 'gp3', imdsHopLimit: 1, cpuCredits: 'standard',
    };
    expect(parseStoredGroup(serializeStoredGroup(group), 'p').cpuCredits).toBe('standard');
    expect(parseStoredGroup(serializeStoredGroup({ ...group, name: 'control-plane', role: 'control-plane' }), 'p').role).toBe('control-plane');
    const { cpuCredits: _omit, ...without } = group;
    expect(serializeStoredGroup(without)).not.toContain('cpuCredits');
    expect(() => parseStoredGroup(serializeStoredGroup({ ...group, cpuCredits: 'turbo' as never }), 'p')).toThrow(/cpuCredits/);
  });
});

describe('ingress deregistration delay and source CIDRs', () => {
  it('defaults to 60 s and any source', () => {
    expect(cluster(ingress()).ingress).toEqual({
      albs: ['shared'],
      zone: 'example.com',
      deregistrationDelaySeconds: DEFAULT_DEREGISTRATION_DELAY,
      sourceCidrs: [],
    });
    expect(DEFAULT_DEREGISTRATION_DELAY).toBe(60);
  });

  it('takes 0-3600 s and up to 4 IPv4 or IPv6 CIDRs (duplicates folded)', () => {
    const cidrs = ['203.0.113.0/24', '2001:db8::/32', '10.0.0.0/8', '198.51.100.7/32', '203.0.113.0/24'];
    const spec = cluster(ingress({ deregistrationDelay: 0, sourceCidrs: cidrs }));
    expect(spec.ingress).toMatchObject({ deregistrationDelaySeconds: 0, sourceCidrs: ['203.0.113.0/24', '2001:db8::/32', '10.0.0.0/8', '198.51.100.7/32'] });
    expect(cluster(ingress({ deregistrationDelay: 3600 })).ingress!.deregistrationDelaySeconds).toBe(3600);
  });

  it.each([
    [{ deregistrationDelay: 3601 }, '--ingress-deregistration-delay', /whole number of seconds 0-3600/],
    [{ deregistrationDelay: -5 }, '--ingress-deregistration-delay', /got -5/],
    [{ deregistrationDelay: 1.5 }, '--ingress-deregistration-delay', /whole number/],
    [{ sourceCidrs: ['10.0.0.1/8'] }, '--ingress-source-cidr', /did you mean 10\.0\.0\.0\/8/],
    [{ sourceCidrs: ['2001:db8::1/32'] }, '--ingress-source-cidr', /did you mean 2001:db8::\/32/],
    [{ sourceCidrs: ['any'] }, '--ingress-source-cidr', /is not a CIDR block/],
    [
      { sourceCidrs: ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'] },
      '--ingress-source-cidr',
      new RegExp(`5 CIDRs, but the ingress rule takes at most ${MAX_INGRESS_SOURCE_CIDRS}: an ALB rule has at most 5 condition values and its host header uses one`),
    ],
  ])('refuses %j (%s)', (more, field, message) => {
    const e = userError(() => cluster(ingress(more as never)));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('counts CIDRs after folding duplicates', () => {
    const four = ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'];
    expect(cluster(ingress({ sourceCidrs: [...four, four[0]] })).ingress!.sourceCidrs).toEqual(four);
  });

  it('needs the ALB and zone when only the new fields are given', () => {
    expect(userError(() => cluster({ ingress: { alb: '', zone: '', deregistrationDelay: 30 } })).field).toBe('--ingress-alb');
  });

  it('is kept in the stored settings; a configuration stored before has neither', () => {
    const config: StoredClusterConfig = {
      ...storedSettings,
      ingress: {
        albs: [
          {
            albName: 'shared',
            loadBalancerArn: 'arn:lb',
            listenerArn: 'arn:l',
            targetGroupName: 'k3s-demo-ing',
          },
        ],
        zoneId: 'Z1',
        zoneName: 'example.com',
        host: '*--demo.us-east-1.example.com',
        deregistrationDelaySeconds: 90,
        sourceCidrs: ['203.0.113.0/24'],
      },
    };
    const back = parseStoredClusterConfig(serializeStoredClusterSettings(config), 'p');
    expect(back.ingress).toMatchObject({ deregistrationDelaySeconds: 90, sourceCidrs: ['203.0.113.0/24'] });
    const stored = JSON.parse(serializeStoredClusterSettings(config));
    const legacy = parseStoredClusterConfig(
      JSON.stringify({
        ...stored,
        ingress: { ...stored.ingress, deregistrationDelaySeconds: undefined, sourceCidrs: undefined },
      }),
      'p',
    );
    expect(legacy.ingress!.deregistrationDelaySeconds).toBeUndefined();
    expect(legacy.ingress!.sourceCidrs).toBeUndefined();
  });

  describe('several ALBs', () => {
    const alb = (n: number, targetGroupName: string) => ({
      albName: `shared${n}`,
      loadBalancerArn: `arn:lb${n}`,
      listenerArn: `arn:l${n}`,
      instanceSecurityGroupId: `sg-${n}`,
      targetGroupName,
    });
    const ingressOf = (albs: ReturnType<typeof alb>[]) => ({
      albs,
      zoneId: 'Z1',
      zoneName: 'example.com',
      host: '*--demo.us-east-1.example.com',
    });

    it('takes --ingress-alb repeated or a list in the file, distinct, at most 4', () => {
      expect(cluster(ingress({ alb: ['a1', 'a2', 'a1'] })).ingress!.albs).toEqual(['a1', 'a2']);
      expect(cluster(ingress({ alb: 'a1' })).ingress!.albs).toEqual(['a1']);
      const e = userError(() => cluster(ingress({ alb: ['a1', 'a2', 'a3', 'a4', 'a5'] })));
      expect(e.field).toBe('--ingress-alb');
      expect(e.message).toMatch(/5 ALBs, but a cluster's ingress takes at most 4/);
      expect(userError(() => cluster(ingress({ alb: ['a1', 'no_such!'] }))).message).toMatch(
        /'no_such!' is not an ALB name or ARN/,
      );
      expect(userError(() => cluster(ingress({ alb: [] }))).field).toBe('--ingress-alb');
    });

    it('stores a single ALB exactly as before (older versions read it), further ALBs in moreAlbs', () => {
      const one = JSON.parse(
        serializeStoredClusterSettings({ ...storedSettings, ingress: ingressOf([alb(1, 'k3s-demo-ing')]) }),
      );
      expect(one.ingress).toEqual({
        albName: 'shared1',
        loadBalancerArn: 'arn:lb1',
        listenerArn: 'arn:l1',
        instanceSecurityGroupId: 'sg-1',
        zoneId: 'Z1',
        zoneName: 'example.com',
        host: '*--demo.us-east-1.example.com',
      });
      const config: StoredClusterConfig = {
        ...storedSettings,
        ingress: ingressOf([alb(2, 'k3s-demo-ing2'), alb(1, 'k3s-demo-ing')]),
      };
      const two = JSON.parse(serializeStoredClusterSettings(config));
      expect(two.ingress).toMatchObject({
        albName: 'shared2',
        targetGroupName: 'k3s-demo-ing2',
        moreAlbs: [alb(1, 'k3s-demo-ing')],
      });
      expect(parseStoredClusterConfig(JSON.stringify(two), 'p').ingress).toEqual(config.ingress);
      expect(parseStoredClusterConfig(JSON.stringify(one), 'p').ingress!.albs).toEqual([
        alb(1, 'k3s-demo-ing'),
      ]);
    });
  });
});
