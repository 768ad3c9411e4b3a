// Shared application load balancers (AWS::ElasticLoadBalancingV2::LoadBalancer): lookup by name or
// ARN, the k3sctl-owned ALB task (tagged k3sctl.io/shared=NAME, role alb), its listeners, and the
// ELB name rule the target-group module shares.
import {
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers,
  type Listener,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { TagKeys, tagMapOf, type Tag } from '../aws/tags';
import { UserError, isAwsError } from '../core/errors';
import type { Clock } from '../core/clock';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, TaskRef } from '../provider/types';
import { requiredOutput } from '../provider/taskRef';
import type { Provider } from '../provider/provider';
import { addElbTags, describeElbTags } from './elbTags';
import { tagChanges, type FieldChange } from '../provider/fieldChange';

export const LOAD_BALANCER_TYPE = 'AWS::ElasticLoadBalancingV2::LoadBalancer';
/** ALB and target group names: at most 32 characters, alphanumerics and hyphens. */
export const MAX_ELB_NAME = 32;


export function validateElbName(kind: string, name: string, field?: string): void {
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name) ||
    name.length > MAX_ELB_NAME ||
    name.startsWith('internal-')
  ) {
    throw new UserError(
      `${kind} name '${name}' is not valid: at most ${MAX_ELB_NAME} letters, digits and '-', not starting or ending with '-' (${name.length} characters given)`,
      undefined,
      field,
    );
  }
}

export interface LoadBalancerState {
  arn: string;
  name: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  scheme: string;
  state: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupIds: string[];
  tags: Record<string, string>;
}

function toState(lb: LoadBalancer, tags: Record<string, string>): LoadBalancerState {
  return {
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? '',
    dnsName: lb.DNSName ?? '',
    canonicalHostedZoneId: lb.CanonicalHostedZoneId ?? '',
    scheme: lb.Scheme ?? 'internet-facing',
    state: lb.State?.Code ?? 'unknown',
    vpcId: lb.VpcId ?? '',
    subnetIds: (lb.AvailabilityZones ?? []).map((z) => z.SubnetId ?? '').filter(Boolean),
    securityGroupIds: lb.SecurityGroups ?? [],
    tags,
  };
}

async function describeLoadBalancer(
  clients: AwsClients,
  nameOrArn: string,
): Promise<LoadBalancer | undefined> {
  const byArn = nameOrArn.startsWith('arn:');
  try {
    const res = await clients.elbv2.send(
      new DescribeLoadBalancersCommand(byArn ? { LoadBalancerArns: [nameOrArn] } : { Names: [nameOrArn] }),
    );
    return res.LoadBalancers?.[0];
  } catch (error) {
    if (isAwsError(error, 'LoadBalancerNotFound', 'ValidationError')) return undefined;
    throw error;
  }
}

/** Every application load balancer of the region (paginated) with its tags. */
export async function listLoadBalancers(clients: AwsClients): Promise<LoadBalancerState[]> {
  const lbs: LoadBalancer[] = [];
  for await (const res of paginateDescribeLoadBalancers({ client: clients.elbv2 }, {})) {
    lbs.push(...(res.LoadBalancers ?? []).filter((l) => (l.Type ?? 'application') === 'application'));
  }
  const tags = await describeElbTags(
    clients,
    lbs.map((l) => l.LoadBalancerArn ?? ''),
  );
  return lbs.map((l) => toState(l, tags.get(l.LoadBalancerArn ?? '') ?? {}));
}

/** The ALBs k3sctl manages (tag k3sctl.io/role=alb). */
export async function listManagedLoadBalancers(clients: AwsClients): Promise<LoadBalancerState[]> {
  return (await listLoadBalancers(clients)).filter(
    (l) => l.tags[TagKeys.role] === 'alb' && l.tags[TagKeys.managedBy] === 'k3sctl',
  );
}

/** An ALB given by name or ARN; a UserError naming the candidates when there is none. */
export async function findLoadBalancer(
  clients: AwsClients,
  nameOrArn: string,
  field = '--alb',
): Promise<LoadBalancerState> {
  const lb = await describeLoadBalancer(clients, nameOrArn);
  if (!lb) {
    const candidates = (await listLoadBalancers(clients)).map((l) => l.name);
    throw new UserError(
      `${field}: no application load balancer '${nameOrArn}' in ${clients.region}`,
      candidates.length
        ? `use one of: ${candidates.join(', ')}`
        : `create one with 'k3sctl alb create ${nameOrArn.startsWith('arn:') ? 'NAME' : nameOrArn}'`,
      field,
    );
  }
  if (lb.Type && lb.Type !== 'application') {
    throw new UserError(
      `${field}: load balancer '${nameOrArn}' is a ${lb.Type} load balancer; an application load balancer is needed`,
      undefined,
      field,
    );
  }
  const tags = await describeElbTags(clients, [lb.LoadBalancerArn ?? '']);
  return toState(lb, tags.get(lb.LoadBalancerArn ?? '') ?? {});
}

/** Listeners of a load balancer (paginated). */
export async function listListeners(clients: AwsClients, lbArn: string): Promise<Listener[]> {
  const out: Listener[] = [];
  for await (const res of paginateDescribeListeners({ client: clients.elbv2 }, { LoadBalancerArn: lbArn })) {
    out.push(...(res.Listeners ?? []));
  }
  return out;
}

/** The HTTPS listener on port 443 of an ALB, or a UserError. */
export async function findHttpsListener(
  clients: AwsClients,
  lbArn: string,
  albName?: string,
): Promise<Listener> {
  const listener = (await listListeners(clients, lbArn)).find(
    (l) => l.Port === 443 && l.Protocol === 'HTTPS',
  );
  if (!listener) {
    const name = albName ?? lbArn.split('/').slice(-2, -1)[0] ?? lbArn;
    throw new UserError(
      `ALB ${name} has no HTTPS listener on 443`,
      `k3sctl routes hosts on the ALB's 443 listener; create the ALB with 'k3sctl alb create ${name} --certificate ARN' or add an HTTPS listener`,
      '--alb',
    );
  }
  return listener;
}

/** Deletes an ALB; NotFound is success. */
export async function deleteLoadBalancer(clients: AwsClients, arn: string): Promise<void> {
  await ignoringNotFound(() => clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })), 'LoadBalancerNotFound');
}

/** Waits (on `clock`) until the ALB is gone from DescribeLoadBalancers, so its ENIs and security groups can go. */
export async function waitLoadBalancerGone(
  clients: AwsClients,
  clock: Clock,
  arn: string,
  timeoutMs = 600_000,
): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  while (await describeLoadBalancer(clients, arn)) {
    if (clock.now() > deadline) return;
    await clock.sleep(5_000);
  }
}

export const loadBalancerProvider: Provider = {
  type: LOAD_BALANCER_TYPE,
  dependsOn: ['AWS::EC2::SecurityGroup'],
  undo: {
    async delete(clients, data) {
      let arn = data.arn as string | undefined;
      if (!arn && data.name) arn = (await describeLoadBalancer(clients, data.name as string))?.LoadBalancerArn;
      if (arn) await deleteLoadBalancer(clients, arn);
    },
  },
};

export interface LoadBalancerSpec {
  name: string;
  internal: boolean;
  subnetIds: string[];
  /** The security groups: literal ids (`sg-...`) or the tasks of groups this run converges. */
  securityGroups: (string | TaskRef<{ groupId: string }>)[];
  tags: Tag[];
}

function securityGroupId(ctx: RunContext, group: string | TaskRef<{ groupId: string }>): string {
  return typeof group === 'string' ? group : requiredOutput(ctx, group).groupId;
}

/** The k3sctl ALB `spec.name`: found by name, refused when it exists but is not k3sctl's. Immutable fields are checked. */
export function loadBalancerTask(spec: LoadBalancerSpec, key = 'loadBalancer'): Task<LoadBalancerState> {
  validateElbName('ALB', spec.name, 'name');
  return {
    key,
    type: LOAD_BALANCER_TYPE,
    name: spec.name,
    dependsOn: spec.securityGroups.filter((s) => typeof s !== 'string'),
    async find(ctx) {
      const lb = await describeLoadBalancer(ctx.clients, spec.name);
      if (!lb) return undefined;
      const tags =
        (await describeElbTags(ctx.clients, [lb.LoadBalancerArn ?? ''])).get(lb.LoadBalancerArn ?? '') ?? {};
      if (tags[TagKeys.shared] !== spec.name || tags[TagKeys.role] !== 'alb') {
        throw new UserError(
          `a load balancer named '${spec.name}' exists but is not a k3sctl ALB (tag ${TagKeys.shared}=${spec.name} missing)`,
          'choose another name, or pass the existing ALB by name to --alb/--ingress-alb',
          'name',
        );
      }
      const state = toState(lb, tags);
      return state;
    },
    // Tags change in place (AddTags). The scheme cannot: the ALB would have to be replaced, which k3sctl
    // does not do (its listeners, rules and DNS name would go with it), so the engine refuses the plan.
    diff(actual) {
      const scheme = spec.internal ? 'internal' : 'internet-facing';
      const changes: FieldChange[] = actual.scheme === scheme ? [] : [{ field: 'scheme', from: actual.scheme, to: scheme, replace: true }];
      return changes.concat(tagChanges(spec.tags, actual.tags));
    },
    replaceAdvice: { hint: `delete it first ('k3sctl alb delete ${spec.name}') or drop --internal accordingly`, input: '--internal' },
    async create(ctx) {
      const subnets = spec.subnetIds;
      const sgs = spec.securityGroups.map((s) => securityGroupId(ctx, s));
      const res = await journaledWrite(
        ctx,
        {
          action: 'create',
          type: LOAD_BALANCER_TYPE,
          name: spec.name,
          undo: { type: LOAD_BALANCER_TYPE, action: 'delete', data: { name: spec.name } },
        },
        () =>
          ctx.clients.elbv2.send(
            new CreateLoadBalancerCommand({
              Name: spec.name,
              Type: 'application',
              Scheme: spec.internal ? 'internal' : 'internet-facing',
              IpAddressType: 'ipv4',
              Subnets: subnets,
              SecurityGroups: sgs,
              Tags: spec.tags,
            }),
          ),
        (out) => {
          const arn = out.LoadBalancers?.[0]?.LoadBalancerArn;
          return {
            id: arn,
            undo: { type: LOAD_BALANCER_TYPE, action: 'delete', data: { arn, name: spec.name } },
          };
        },
      );
      const lb = res.LoadBalancers?.[0];
      if (!lb) throw new Error(`CreateLoadBalancer returned no load balancer for ${spec.name}`);
      return toState(lb, tagMapOf(spec.tags));
    },
    async update(actual, _changes, ctx) {
      await addElbTags(ctx, LOAD_BALANCER_TYPE, spec.name, actual.arn, spec.tags, actual.tags);
      return {
        ...actual,
        tags: { ...actual.tags, ...tagMapOf(spec.tags) },
      };
    },
    id: (a) => a.arn,
  };
}

/** Current state of an ALB by ARN (for waits), or undefined when gone. */
export async function describeLoadBalancerState(
  clients: AwsClients,
  arn: string,
): Promise<LoadBalancerState | undefined> {
  const lb = await describeLoadBalancer(clients, arn);
  return lb ? toState(lb, {}) : undefined;
}
