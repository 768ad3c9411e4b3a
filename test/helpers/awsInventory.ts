// What an AWS account holds, read with plain AWS SDK clients of the test's own (never k3sctl's code):
// the independent reader of the emulator tests. `inventory()` lists every kind k3sctl writes, each
// item with its tags and the attributes that matter; two inventories compare with `toEqual`.
// `conformanceView()` drops what differs between accounts by nature (ids, ARNs, times) so the same
// scenario run against the sandbox and against moto can be compared.
import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand, ListTagsForCertificateCommand } from '@aws-sdk/client-acm';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { ListHostedZonesCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { gunzipSync } from 'node:zlib';

/** How to reach the account: an endpoint (moto) or SDK plugins (the sandbox). */
export interface AccountAccess {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoint?: string;
  plugins?: unknown[];
}

export interface InventoryItem {
  key: string;
  tags: Record<string, string>;
  attrs: Record<string, unknown>;
}

export type Inventory = Record<string, InventoryItem[]>;

export class AccountReader {
  readonly ec2: EC2Client;
  readonly asg: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly iam: IAMClient;
  readonly ssm: SSMClient;
  readonly r53: Route53Client;
  readonly acm: ACMClient;

  constructor(access: AccountAccess) {
    const config = {
      region: access.region,
      credentials: access.credentials,
      ...(access.endpoint ? { endpoint: access.endpoint } : {}),
      maxAttempts: 3,
    };
    this.ec2 = new EC2Client(config);
    this.asg = new AutoScalingClient(config);
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.iam = new IAMClient(config);
    this.ssm = new SSMClient(config);
    this.r53 = new Route53Client(config);
    this.acm = new ACMClient(config);
    for (const client of [this.ec2, this.asg, this.elb, this.iam, this.ssm, this.r53, this.acm]) {
      for (const plugin of access.plugins ?? []) client.middlewareStack.use(plugin as never);
    }
  }

  destroy(): void {
    for (const c of [this.ec2, this.asg, this.elb, this.iam, this.ssm, this.r53, this.acm]) c.destroy();
  }

  async vpcs(): Promise<InventoryItem[]> {
    const res = await this.ec2.send(new DescribeVpcsCommand({}));
    return (res.Vpcs ?? []).map((v) => ({ key: v.VpcId!, tags: tagMap(v.Tags), attrs: { cidr: v.CidrBlock, isDefault: v.IsDefault } }));
  }

  async subnets(): Promise<InventoryItem[]> {
    const res = await this.ec2.send(new DescribeSubnetsCommand({}));
    return (res.Subnets ?? []).map((s) => ({ key: s.SubnetId!, tags: tagMap(s.Tags), attrs: { vpc: s.VpcId, zone: s.AvailabilityZone, cidr: s.CidrBlock } }));
  }

  async securityGroups(): Promise<InventoryItem[]> {
    const res = await this.ec2.send(new DescribeSecurityGroupsCommand({}));
    const nameOf = new Map((res.SecurityGroups ?? []).map((g) => [g.GroupId!, g.GroupName!]));
    return (res.SecurityGroups ?? []).map((g) => ({
      key: `${g.VpcId}/${g.GroupName}`,
      tags: tagMap(g.Tags),
      attrs: {
        id: g.GroupId,
        vpc: g.VpcId,
        ingress: (g.IpPermissions ?? [])
          .flatMap((p) => [
            ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''} from ${r.CidrIp}`),
            ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''} from ${r.CidrIpv6}`),
            ...(p.UserIdGroupPairs ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''} from sg:${nameOf.get(r.GroupId!) ?? r.GroupId}`),
          ])
          .sort(),
      },
    }));
  }

  async launchTemplates(): Promise<InventoryItem[]> {
    const res = await this.ec2.send(new DescribeLaunchTemplatesCommand({}));
    const out: InventoryItem[] = [];
    for (const t of res.LaunchTemplates ?? []) {
      const versions = await this.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: t.LaunchTemplateId }));
      const latest = (versions.LaunchTemplateVersions ?? []).sort((a, b) => (b.VersionNumber ?? 0) - (a.VersionNumber ?? 0))[0];
      const d = latest?.LaunchTemplateData;
      out.push({
        key: t.LaunchTemplateName!,
        tags: tagMap(t.Tags),
        attrs: {
          id: t.LaunchTemplateId,
          latestVersion: t.LatestVersionNumber,
          versions: (versions.LaunchTemplateVersions ?? []).length,
          instanceType: d?.InstanceType,
          httpTokens: d?.MetadataOptions?.HttpTokens,
          hopLimit: d?.MetadataOptions?.HttpPutResponseHopLimit,
          instanceProfile: d?.IamInstanceProfile?.Name ?? d?.IamInstanceProfile?.Arn?.split('/').pop(),
          encrypted: (d?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.Encrypted),
          userDataBytes: d?.UserData ? Buffer.from(d.UserData, 'base64').length : 0,
          userDataGzip: d?.UserData ? isGzip(Buffer.from(d.UserData, 'base64')) : false,
        },
      });
    }
    return out;
  }

  async instances(): Promise<InventoryItem[]> {
    const res = await this.ec2.send(new DescribeInstancesCommand({}));
    return (res.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.State?.Name !== 'terminated')
      .map((i) => ({ key: i.InstanceId!, tags: tagMap(i.Tags), attrs: { state: i.State?.Name, subnet: i.SubnetId, type: i.InstanceType } }));
  }

  async autoScalingGroups(): Promise<InventoryItem[]> {
    const res = await this.asg.send(new DescribeAutoScalingGroupsCommand({}));
    const out: InventoryItem[] = [];
    for (const g of res.AutoScalingGroups ?? []) {
      const hooks = await this.asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: g.AutoScalingGroupName }));
      out.push({
        key: g.AutoScalingGroupName!,
        tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
        attrs: {
          min: g.MinSize,
          max: g.MaxSize,
          desired: g.DesiredCapacity,
          launchTemplate: g.LaunchTemplate?.LaunchTemplateName,
          launchTemplateVersion: g.LaunchTemplate?.Version,
          subnets: (g.VPCZoneIdentifier ?? '').split(',').filter(Boolean).sort(),
          targetGroups: (g.TargetGroupARNs ?? []).map(targetGroupName).sort(),
          hooks: (hooks.LifecycleHooks ?? []).map((h) => `${h.LifecycleHookName}:${h.LifecycleTransition}`).sort(),
          suspended: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName).sort(),
          instances: (g.Instances ?? []).length,
        },
      });
    }
    return out;
  }

  async roles(): Promise<InventoryItem[]> {
    const res = await this.iam.send(new ListRolesCommand({}));
    const out: InventoryItem[] = [];
    for (const r of res.Roles ?? []) {
      if (r.Path?.startsWith('/aws-service-role/')) continue;
      const [tags, attached, inline] = await Promise.all([
        this.iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName })),
        this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.RoleName })),
        this.iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName })),
      ]);
      const trust = JSON.parse(decodeURIComponent(r.AssumeRolePolicyDocument ?? '%7B%7D')) as { Statement?: { Principal?: { Service?: string | string[] } }[] };
      out.push({
        key: r.RoleName!,
        tags: tagMap(tags.Tags),
        attrs: {
          trustedServices: (trust.Statement ?? []).flatMap((s) => [s.Principal?.Service ?? []].flat()).sort(),
          managedPolicies: (attached.AttachedPolicies ?? []).map((p) => p.PolicyName).sort(),
          inlinePolicies: (inline.PolicyNames ?? []).sort(),
        },
      });
    }
    return out;
  }

  async instanceProfiles(): Promise<InventoryItem[]> {
    const res = await this.iam.send(new ListInstanceProfilesCommand({}));
    return (res.InstanceProfiles ?? []).map((p) => ({
      key: p.InstanceProfileName!,
      tags: tagMap(p.Tags),
      attrs: { roles: (p.Roles ?? []).map((r) => r.RoleName).sort() },
    }));
  }

  async parameters(): Promise<InventoryItem[]> {
    const out: InventoryItem[] = [];
    let token: string | undefined;
    do {
      const res = await this.ssm.send(new DescribeParametersCommand({ NextToken: token, MaxResults: 50 }));
      for (const p of res.Parameters ?? []) {
        if (p.Name?.startsWith('/aws/')) continue;
        out.push({ key: p.Name!, tags: {}, attrs: { type: p.Type } });
      }
      token = res.NextToken;
    } while (token);
    return out;
  }

  async loadBalancing(): Promise<{ loadBalancers: InventoryItem[]; targetGroups: InventoryItem[]; listeners: InventoryItem[]; rules: InventoryItem[] }> {
    const lbs = (await this.elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const tgs = (await this.elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    const tags = await this.elbTags([...lbs.map((l) => l.LoadBalancerArn!), ...tgs.map((t) => t.TargetGroupArn!)]);
    const listeners: InventoryItem[] = [];
    const rules: InventoryItem[] = [];
    for (const lb of lbs) {
      for (const l of (await this.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? []) {
        const key = `${lb.LoadBalancerName}:${l.Port}`;
        listeners.push({
          key,
          tags: {},
          attrs: { protocol: l.Protocol, defaultAction: l.DefaultActions?.[0]?.Type, certificates: (l.Certificates ?? []).length },
        });
        const ruleList = (await this.elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules ?? [];
        const ruleTags = await this.elbTags(ruleList.filter((r) => !r.IsDefault).map((r) => r.RuleArn!));
        for (const r of ruleList.filter((x) => !x.IsDefault)) {
          const forward = r.Actions?.find((a) => a.Type === 'forward');
          const targets = forward?.ForwardConfig?.TargetGroups ?? (forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
          rules.push({
            key: `${key}:${(r.Conditions ?? []).flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []).join(',')}`,
            tags: ruleTags.get(r.RuleArn!) ?? {},
            attrs: { forward: targets.map((t) => `${targetGroupName(t.TargetGroupArn!)}=${t.Weight ?? 1}`).sort() },
          });
        }
      }
    }
    return {
      loadBalancers: lbs.map((l) => ({ key: l.LoadBalancerName!, tags: tags.get(l.LoadBalancerArn!) ?? {}, attrs: { scheme: l.Scheme, type: l.Type, securityGroups: (l.SecurityGroups ?? []).length } })),
      // LoadBalancerArns: "the load balancers that route traffic to this target group"; moto lists one
      // load balancer once per rule that forwards to the group (moto/elbv2/models.py), so count distinct ones.
      targetGroups: tgs.map((t) => ({
        key: t.TargetGroupName!,
        tags: tags.get(t.TargetGroupArn!) ?? {},
        attrs: { protocol: t.Protocol, port: t.Port, healthPath: t.HealthCheckPath, loadBalancers: new Set(t.LoadBalancerArns ?? []).size },
      })),
      listeners,
      rules,
    };
  }

  private async elbTags(arns: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    for (let i = 0; i < arns.length; i += 20) {
      const res = await this.elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
      for (const d of res.TagDescriptions ?? []) out.set(d.ResourceArn!, tagMap(d.Tags));
    }
    return out;
  }

  async hostedZones(): Promise<{ zones: InventoryItem[]; records: InventoryItem[] }> {
    const zones = (await this.r53.send(new ListHostedZonesCommand({}))).HostedZones ?? [];
    const records: InventoryItem[] = [];
    for (const z of zones) {
      const sets = (await this.r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: z.Id }))).ResourceRecordSets ?? [];
      for (const s of sets) {
        if (s.Type === 'SOA' || s.Type === 'NS') continue;
        records.push({
          key: `${s.Name} ${s.Type}${s.SetIdentifier ? ` ${s.SetIdentifier}` : ''}`,
          tags: {},
          attrs: { alias: Boolean(s.AliasTarget), values: (s.ResourceRecords ?? []).map((r) => r.Value).sort() },
        });
      }
    }
    return { zones: zones.map((z) => ({ key: z.Name!, tags: {}, attrs: { private: z.Config?.PrivateZone ?? false } })), records };
  }

  async certificates(): Promise<InventoryItem[]> {
    const list = (await this.acm.send(new ListCertificatesCommand({}))).CertificateSummaryList ?? [];
    const out: InventoryItem[] = [];
    for (const c of list) {
      const [d, t] = await Promise.all([
        this.acm.send(new DescribeCertificateCommand({ CertificateArn: c.CertificateArn })),
        this.acm.send(new ListTagsForCertificateCommand({ CertificateArn: c.CertificateArn })),
      ]);
      out.push({
        key: c.DomainName!,
        tags: tagMap(t.Tags),
        attrs: { sans: (d.Certificate?.SubjectAlternativeNames ?? []).slice().sort(), status: d.Certificate?.Status },
      });
    }
    return out;
  }

  /** Every kind k3sctl writes, each list sorted by key. */
  async inventory(): Promise<Inventory> {
    const [vpcs, subnets, securityGroups, launchTemplates, instances, autoScalingGroups, roles, instanceProfiles, parameters, lb, dns, certificates] =
      await Promise.all([
        this.vpcs(),
        this.subnets(),
        this.securityGroups(),
        this.launchTemplates(),
        this.instances(),
        this.autoScalingGroups(),
        this.roles(),
        this.instanceProfiles(),
        this.parameters(),
        this.loadBalancing(),
        this.hostedZones(),
        this.certificates(),
      ]);
    const sorted = (items: InventoryItem[]) => items.sort((a, b) => a.key.localeCompare(b.key));
    return {
      'AWS::EC2::VPC': sorted(vpcs),
      'AWS::EC2::Subnet': sorted(subnets),
      'AWS::EC2::SecurityGroup': sorted(securityGroups),
      'AWS::EC2::LaunchTemplate': sorted(launchTemplates),
      'AWS::EC2::Instance': sorted(instances),
      'AWS::AutoScaling::AutoScalingGroup': sorted(autoScalingGroups),
      'AWS::IAM::Role': sorted(roles),
      'AWS::IAM::InstanceProfile': sorted(instanceProfiles),
      'AWS::SSM::Parameter': sorted(parameters),
      'AWS::ElasticLoadBalancingV2::LoadBalancer': sorted(lb.loadBalancers),
      'AWS::ElasticLoadBalancingV2::TargetGroup': sorted(lb.targetGroups),
      'AWS::ElasticLoadBalancingV2::Listener': sorted(lb.listeners),
      'AWS::ElasticLoadBalancingV2::ListenerRule': sorted(lb.rules),
      'AWS::Route53::HostedZone': sorted(dns.zones),
      'AWS::Route53::RecordSet': sorted(dns.records),
      'AWS::CertificateManager::Certificate': sorted(certificates),
    };
  }
}

/** The part of an inventory that is k3sctl's (tagged `k3sctl.io/*`, or named for it), for comparing accounts. */
export function k3sctlOwned(inv: Inventory): Inventory {
  const owned = (i: InventoryItem) =>
    Object.keys(i.tags).some((k) => k.startsWith('k3sctl.io/')) || /^k3sctl-|^k3s-|^\/k3sctl\//.test(i.key) || /\/k3sctl-/.test(i.key);
  return Object.fromEntries(Object.entries(inv).map(([kind, items]) => [kind, items.filter(owned)]));
}

export function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter((t) => !t.Key?.startsWith('aws:')).map((t) => [t.Key!, t.Value ?? '']));
}

export function targetGroupName(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}

function isGzip(buf: Buffer): boolean {
  try {
    gunzipSync(buf);
    return true;
  } catch {
    return false;
  }
}
