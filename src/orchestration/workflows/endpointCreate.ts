// endpoint create SERVICE: a shared endpoint on a shared ALB. Ingress mode: a listener rule for
// SERVICE.ZONE forwarding (weighted) to the clusters' ingress target groups. Nodeport mode: a service
// target group (health-checked per service on its NodePort) attached to the clusters' Auto Scaling
// groups, and a rule forwarding to it. Both: a latency-based alias A record to the ALB (unless --no-dns)
// and the endpoint's configuration in SSM /k3sctl/endpoints/SERVICE.
import { loadBalancerNameOfArn } from '../../aws/arns';
import { TagKeys } from '../../aws/tags';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import {
  endpointHost,
  serviceTargetGroupName,
  validateWeights,
  type EndpointSpec,
} from '../../config/ingress';
import { names } from '../../aws/names';
import { describeCertificate } from '../../resources/certificate';
import { endpointConfigTask, type StoredEndpointConfig } from '../../resources/endpointConfig';
import { assertInZone, findHostedZone, type HostedZoneRef } from '../../resources/hostedZone';
import {
  MAX_RULES_PER_ALB,
  listListenerRules,
  listenerRuleTask,
  type ForwardTarget,
  type ListenerRuleState,
} from '../../resources/listenerRule';
import { findHttpsListener, findLoadBalancer, type LoadBalancerState } from '../../resources/loadBalancer';
import { recordSetTask } from '../../resources/recordSet';
import {
  attachTargetGroup,
  detachTargetGroup,
  findIngressTargetGroups,
  listClusterGroupAttachments,
  targetGroupTask,
  type ClusterGroupAttachment,
  type TargetGroupState,
} from '../../resources/targetGroup';
import { getParameterValue } from '../../resources/ssmParameter';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type RunOptions, type WorkflowResult } from '../engine';
import type { RunContext, Task, TaskRef } from '../../provider/types';
import { requiredOutput } from '../../provider/taskRef';
import { endpointTags } from '../steps/endpointTags';

export interface EndpointSummary {
  service: string;
  host: string;
  mode: 'ingress' | 'nodeport';
  zone: string;
  alb: string;
  clusters: { cluster: string; weight?: number; targetGroupArn?: string }[];
  ruleArn?: string;
  priority?: number;
  targetGroupArn?: string;
  dns: boolean;
}

export interface EndpointCreateResult {
  dryRun: boolean;
  planned?: PlannedChange[];
  endpoint: EndpointSummary;
}

/** Everything endpoint create needs to know from AWS, read before any write (UserErrors here mean exit 2, nothing changed). */
export interface ResolvedEndpoint {
  zone: HostedZoneRef;
  lb: LoadBalancerState;
  listenerArn: string;
  /** The 443 listener's default certificate. */
  certificateArn?: string;
  host: string;
  /** ingress mode: each cluster's ingress target group. */
  ingressTargetGroups: Map<string, TargetGroupState>;
  /** nodeport mode: each cluster's Auto Scaling groups. */
  groups: Map<string, ClusterGroupAttachment[]>;
}

export async function resolveEndpoint(
  ctx: Pick<RunContext, 'clients'>,
  spec: EndpointSpec,
): Promise<ResolvedEndpoint> {
  const clients = ctx.clients;
  const zone = await findHostedZone(clients, spec.zone, '--zone');
  const host = endpointHost(spec.service, zone.name);
  assertInZone(host, zone.name, 'endpoint host', '--zone');
  const lb = await findLoadBalancer(clients, spec.alb, '--alb');
  const listener = await findHttpsListener(clients, lb.arn, lb.name);
  const rules = await listListenerRules(clients, listener.ListenerArn ?? '');
  if (rules.length >= MAX_RULES_PER_ALB && !rules.some((r) => r.tags[TagKeys.service] === spec.service)) {
    throw new UserError(
      `--alb: ALB ${lb.name} already has ${rules.length} listener rules; an ALB allows ${MAX_RULES_PER_ALB}`,
      'delete unused endpoints or use another ALB',
      '--alb',
    );
  }
  const ingressTargetGroups = new Map<string, TargetGroupState>();
  const groups = new Map<string, ClusterGroupAttachment[]>();
  for (const cluster of spec.clusters) {
    if (spec.mode === 'ingress') {
      // The cluster's target group on this ALB (a target group serves one ALB); one not on any ALB yet
      // (its rule was deleted) can join this one.
      const owned = (await findIngressTargetGroups(clients, cluster)).filter(
        (t) => t.tags[TagKeys.cluster] === cluster,
      );
      const tg =
        owned.find((t) => t.loadBalancerArns.includes(lb.arn)) ??
        owned.find((t) => t.loadBalancerArns.length === 0);
      if (!tg && owned.length) {
        const albs = [
          ...new Set(owned.flatMap((t) => t.loadBalancerArns.map((arn) => loadBalancerNameOfArn(arn) ?? arn))),
        ];
        throw new UserError(
          `cluster ${cluster}'s ingress is on ALB(s) ${albs.join(', ')}, not on ${lb.name}`,
          `add ${lb.name} to the cluster's ingress (k3sctl cluster create ${cluster} ... --ingress-alb ${lb.name}), or use --alb ${albs[0]}`,
          '--cluster',
        );
      }
      if (!tg) {
        const known = await clusterExists(clients, cluster);
        throw new UserError(
          known
            ? `cluster ${cluster} has no ingress target group ${names.ingressTargetGroup(cluster)}`
            : `unknown cluster ${cluster}: no ingress target group ${names.ingressTargetGroup(cluster)} and no configuration in SSM in ${clients.region}`,
          known
            ? `create the cluster with --ingress-alb ${lb.name} --ingress-zone ${zone.name}`
            : 'check the cluster name and region (k3sctl cluster list)',
          '--cluster',
        );
      }
      if (tg.vpcId !== lb.vpcId) {
        throw new UserError(
          `cluster ${cluster}'s ingress target group is in ${tg.vpcId}, the ALB ${lb.name} in ${lb.vpcId}`,
          undefined,
          '--cluster',
        );
      }
      ingressTargetGroups.set(cluster, tg);
    } else {
      const asgs = await listClusterGroupAttachments(clients, cluster);
      if (asgs.length === 0 && !(await clusterExists(clients, cluster))) {
        throw new UserError(
          `unknown cluster ${cluster}: no Auto Scaling groups and no configuration in SSM in ${clients.region}`,
          'check the cluster name and region (k3sctl cluster list)',
          '--cluster',
        );
      }
      groups.set(cluster, asgs);
    }
  }
  return {
    zone,
    lb,
    listenerArn: listener.ListenerArn ?? '',
    certificateArn: listener.Certificates?.[0]?.CertificateArn,
    host,
    ingressTargetGroups,
    groups,
  };
}

async function clusterExists(clients: RunContext['clients'], cluster: string): Promise<boolean> {
  return (await getParameterValue(clients, names.ssmConfig(cluster))) !== undefined;
}

/** An endpoint's tasks, and those of them its workflow reads back. */
export interface EndpointTasks {
  /** Every task, in plan order. */
  tasks: Task[];
  /** nodeport: the service's target group. */
  targetGroup?: TaskRef<TargetGroupState>;
  rule: TaskRef<ListenerRuleState>;
  config: TaskRef<StoredEndpointConfig>;
}

/** The tasks of an endpoint (shared by create and by the dry-run plan). */
export function endpointTasks(spec: EndpointSpec, r: ResolvedEndpoint, region: string): EndpointTasks {
  const tags = endpointTags(spec.service);
  const tasks: Task[] = [];
  let forward: ForwardTarget[];
  const tgName = serviceTargetGroupName(spec.service);
  let targetGroup: Task<TargetGroupState> | undefined;
  if (spec.mode === 'nodeport') {
    targetGroup = targetGroupTask(
      {
        name: tgName,
        vpcId: r.lb.vpcId,
        port: spec.port ?? 0,
        protocol: 'HTTP',
        healthCheckPath: spec.healthPath ?? '/',
        tags,
      },
      'serviceTargetGroup',
    );
    tasks.push(targetGroup as Task);
    forward = [{ targetGroup, weight: 1 }];
  } else {
    validateWeights(spec.weights);
    forward = spec.clusters.map((c) => ({
      targetGroupArn: r.ingressTargetGroups.get(c)?.arn ?? '',
      weight: spec.weights[c] ?? 1,
    }));
  }
  const rule = listenerRuleTask(
    {
      name: r.host,
      listenerArn: r.listenerArn,
      hostHeaders: [r.host],
      sourceIps: spec.sourceIps,
      forward,
      stickinessSeconds: spec.stickinessSeconds,
      tags,
    },
    'listenerRule',
  );
  tasks.push(rule as Task);
  if (spec.dns) {
    tasks.push(
      recordSetTask(
        r.zone.zoneId,
        {
          name: r.host,
          type: 'A',
          alias: {
            hostedZoneId: r.lb.canonicalHostedZoneId,
            dnsName: r.lb.dnsName,
            evaluateTargetHealth: true,
          },
          setIdentifier: region,
          region,
        },
        'aliasRecord',
      ),
    );
  }
  const config = (ctx?: RunContext): StoredEndpointConfig => ({
    service: spec.service,
    region,
    mode: spec.mode,
    zone: r.zone.name,
    zoneId: r.zone.zoneId,
    host: r.host,
    alb: r.lb.name,
    albArn: r.lb.arn,
    listenerArn: r.listenerArn,
    clusters: spec.clusters,
    weights: spec.mode === 'ingress' ? spec.weights : {},
    ...(spec.stickinessSeconds ? { stickinessSeconds: spec.stickinessSeconds } : {}),
    ...(spec.sourceIps.length ? { sourceIps: spec.sourceIps } : {}),
    dns: spec.dns,
    ...(spec.mode === 'nodeport'
      ? {
          nodePort: spec.port,
          healthPath: spec.healthPath,
          targetGroupName: tgName,
          targetGroupArn: targetGroup && ctx?.get(targetGroup)?.arn,
        }
      : {}),
  });
  let current: RunContext | undefined;
  const configTask = endpointConfigTask(() => config(current), targetGroup ? [targetGroup, rule] : [rule]);
  // The config's target group ARN comes from the run's outputs: bind the context when the task runs.
  const wrapped: typeof configTask = {
    ...configTask,
    find: (ctx) => ((current = ctx), configTask.find(ctx)),
    diff: (a, ctx) => ((current = ctx), configTask.diff!(a, ctx)),
    create: (ctx) => ((current = ctx), configTask.create(ctx)),
    update: (a, ch, ctx) => ((current = ctx), configTask.update!(a, ch, ctx)),
  };
  tasks.push(wrapped as Task);
  return { tasks, targetGroup, rule, config: wrapped };
}

export async function endpointCreate(
  deps: WorkflowDeps,
  spec: EndpointSpec,
  options: { dryRun?: boolean } & RunOptions = {},
): Promise<WorkflowResult<EndpointCreateResult>> {
  return runWorkflow(
    deps,
    `endpoint create ${spec.service}`,
    async (run) => {
      const resolved = await resolveEndpoint(run.ctx, spec);
      await warnWhenNotCovered(run.ctx, resolved);
      const endpoint = endpointTasks(spec, resolved, deps.region);
      const tasks = endpoint.tasks;
      const planned = await run.plan(tasks);
      const summary = (rule?: ListenerRuleState, tg?: TargetGroupState): EndpointSummary => ({
        service: spec.service,
        host: resolved.host,
        mode: spec.mode,
        zone: resolved.zone.name,
        alb: resolved.lb.name,
        clusters: spec.clusters.map((c) => ({
          cluster: c,
          ...(spec.mode === 'ingress'
            ? { weight: spec.weights[c], targetGroupArn: resolved.ingressTargetGroups.get(c)?.arn }
            : {}),
        })),
        ...(rule ? { ruleArn: rule.arn, priority: rule.priority } : {}),
        ...(tg ? { targetGroupArn: tg.arn } : {}),
        dns: spec.dns,
      });
      if (options.dryRun) return { dryRun: true, planned, endpoint: summary() };
      const previous = run.ctx.get(endpoint.config);
      await run.apply(tasks);
      const tg = endpoint.targetGroup && requiredOutput(run.ctx, endpoint.targetGroup);
      if (tg) {
        await run.step(`attach ${tg.name} to the groups of ${spec.clusters.join(', ')}`, async (ctx) => {
          for (const cluster of spec.clusters) {
            for (const group of resolved.groups.get(cluster) ?? [])
              await attachTargetGroup(ctx, group, tg.arn);
          }
        });
      }
      // Clusters no longer behind a nodeport endpoint stop feeding its target group.
      const dropped =
        previous?.mode === 'nodeport' && previous.targetGroupArn
          ? previous.clusters.filter((c) => !spec.clusters.includes(c) || spec.mode !== 'nodeport')
          : [];
      const previousArn = previous?.targetGroupArn;
      if (dropped.length && previousArn) {
        await run.step(
          `detach ${previous?.targetGroupName} from the groups of ${dropped.join(', ')}`,
          async (ctx) => {
            for (const cluster of dropped) {
              for (const group of await listClusterGroupAttachments(ctx.clients, cluster)) {
                await detachTargetGroup(ctx, group, previousArn);
              }
            }
          },
        );
      }
      return { dryRun: false, endpoint: summary(run.ctx.get(endpoint.rule), tg) };
    },
    options,
  );
}

/** A host the listener's certificate does not cover gets TLS errors: say so (it may be covered by an extra certificate). */
async function warnWhenNotCovered(ctx: RunContext, r: ResolvedEndpoint): Promise<void> {
  if (!r.certificateArn) return;
  const cert = await describeCertificate(ctx.clients, r.certificateArn).catch(() => undefined);
  if (!cert) return;
  const covered = cert.names.some((n) => {
    const name = n.toLowerCase();
    if (name === r.host) return true;
    return name.startsWith('*.') && r.host.split('.').slice(1).join('.') === name.slice(2);
  });
  if (!covered) {
    ctx.events.emit({
      kind: 'log',
      level: 'warn',
      message: `the ALB's certificate (${cert.names.join(', ')}) does not cover ${r.host}: clients will see TLS errors unless another certificate on the listener does`,
    });
  }
}
