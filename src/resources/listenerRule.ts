// Listener rules (AWS::ElasticLoadBalancingV2::ListenerRule) on a shared ALB's HTTPS listener: a
// cluster's automatic ingress rule (`*--CLUSTER.REGION.ZONE`) and an endpoint's rule (`SERVICE.ZONE`).
// A rule is recognised by its ownership tags, never by its priority. Priorities are allocated from the
// lowest free one; two runs racing for the same priority get PriorityInUse and the loser takes the next
// free one; a rule of ours duplicated by a concurrent run of the same command is folded into one.
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  paginateDescribeRules,
  type Action,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterTags, TagKeys, tagMapOf, type Tag } from '../aws/tags';
import { UserError, isAwsError } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, TaskRef } from '../provider/types';
import { tagChanges, type FieldChange } from '../provider/fieldChange';
import { addElbTags, describeElbTags, hasTags } from './elbTags';
import { listListeners } from './loadBalancer';
import { ingressTargetGroupRef, ownedIngressTargetGroups } from './targetGroup';
import type { ClusterScope, Owned } from '../provider/cluster';
import type { Provider } from '../provider/provider';
import type { ClusterView } from '../provider/clusterView';

export const LISTENER_RULE_TYPE = 'AWS::ElasticLoadBalancingV2::ListenerRule';
/** ELBv2 limits: target groups per forward action, weight range, rules per ALB, priority range, stickiness. */
export const MAX_FORWARD_TARGET_GROUPS = 5;
export const MAX_WEIGHT = 999;
export const MAX_RULES_PER_ALB = 100;
export const MAX_PRIORITY = 50_000;
export const MAX_STICKINESS_SECONDS = 604_800;
/** How many PriorityInUse collisions one create absorbs before giving up. */
const PRIORITY_ATTEMPTS = 12;
const OWNER_KEYS: string[] = [TagKeys.cluster, TagKeys.service, TagKeys.shared, TagKeys.role];

export interface ForwardTarget {
  /** A task whose output has the target group's `arn` (when the ARN is not known yet). */
  targetGroup?: TaskRef<{ arn: string }>;
  targetGroupArn?: string;
  weight: number;
}

export interface ListenerRuleSpec {
  /** Human name (the host header by default). */
  name?: string;
  listenerArn: string;
  hostHeaders: string[];
  sourceIps?: string[];
  forward: ForwardTarget[];
  /** Target-group stickiness across the forward's groups, in seconds. */
  stickinessSeconds?: number;
  /** Tags of the rule; its ownership tags (cluster/service/shared/role) identify it. */
  tags: Tag[];
}

export interface ListenerRuleState {
  arn: string;
  listenerArn: string;
  priority: number;
  hostHeaders: string[];
  sourceIps: string[];
  forward: { targetGroupArn: string; weight: number }[];
  stickinessSeconds?: number;
  tags: Record<string, string>;
  actions: Action[];
  conditions: RuleCondition[];
}

/** Checks the forward action's AWS limits before any write (UserError naming the field). */
export function validateForward(forward: { weight: number }[], field = '--weight'): void {
  if (forward.length === 0)
    throw new UserError('a forward action needs at least one target group', undefined, field);
  if (forward.length > MAX_FORWARD_TARGET_GROUPS) {
    throw new UserError(
      `${forward.length} target groups in one forward action; an ALB rule forwards to at most ${MAX_FORWARD_TARGET_GROUPS}`,
      'split the clusters over several endpoints, or use --mode nodeport (one service target group for all clusters)',
      field,
    );
  }
  for (const f of forward) {
    if (!Number.isInteger(f.weight) || f.weight < 0 || f.weight > MAX_WEIGHT) {
      throw new UserError(
        `weight ${f.weight} is out of range: weights are whole numbers 0-${MAX_WEIGHT}`,
        undefined,
        field,
      );
    }
  }
  if (!forward.some((f) => f.weight > 0)) {
    throw new UserError(
      'every weight is 0: at least one target group must receive traffic',
      undefined,
      field,
    );
  }
}

function conditionValues(conditions: RuleCondition[] | undefined, field: string): string[] {
  const c = conditions?.find((x) => x.Field === field);
  if (!c) return [];
  const values =
    field === 'host-header'
      ? c.HostHeaderConfig?.Values
      : field === 'source-ip'
        ? c.SourceIpConfig?.Values
        : undefined;
  return [...(values ?? c.Values ?? [])];
}

function forwardOf(actions: Action[] | undefined): {
  targets: { targetGroupArn: string; weight: number }[];
  stickiness?: number;
} {
  const a = actions?.find((x) => x.Type === 'forward');
  if (!a) return { targets: [] };
  if (a.ForwardConfig?.TargetGroups?.length) {
    const s = a.ForwardConfig.TargetGroupStickinessConfig;
    return {
      targets: a.ForwardConfig.TargetGroups.map((t) => ({
        targetGroupArn: t.TargetGroupArn ?? '',
        weight: t.Weight ?? 1,
      })),
      stickiness: s?.Enabled ? s.DurationSeconds : undefined,
    };
  }
  return { targets: a.TargetGroupArn ? [{ targetGroupArn: a.TargetGroupArn, weight: 1 }] : [] };
}

function toState(rule: Rule, listenerArn: string, tags: Record<string, string>): ListenerRuleState {
  const fwd = forwardOf(rule.Actions);
  return {
    arn: rule.RuleArn ?? '',
    listenerArn,
    priority: Number(rule.Priority),
    hostHeaders: conditionValues(rule.Conditions, 'host-header'),
    sourceIps: conditionValues(rule.Conditions, 'source-ip'),
    forward: fwd.targets,
    stickinessSeconds: fwd.stickiness,
    tags,
    actions: rule.Actions ?? [],
    conditions: rule.Conditions ?? [],
  };
}

/** Every non-default rule of a listener (paginated) with its tags, by ascending priority. */
export async function listListenerRules(
  clients: AwsClients,
  listenerArn: string,
): Promise<ListenerRuleState[]> {
  const rules: Rule[] = [];
  for await (const res of paginateDescribeRules({ client: clients.elbv2 }, { ListenerArn: listenerArn })) {
    rules.push(...(res.Rules ?? []));
  }
  const custom = rules.filter((r) => !r.IsDefault && r.Priority !== 'default');
  const tags = await describeElbTags(
    clients,
    custom.map((r) => r.RuleArn ?? ''),
  );
  return custom
    .map((r) => toState(r, listenerArn, tags.get(r.RuleArn ?? '') ?? {}))
    .sort((a, b) => a.priority - b.priority);
}

/** The rules of ours (tag k3sctl.io/managed-by=k3sctl) on a listener. */
export async function listManagedListenerRules(
  clients: AwsClients,
  listenerArn: string,
): Promise<ListenerRuleState[]> {
  return (await listListenerRules(clients, listenerArn)).filter(
    (r) => r.tags[TagKeys.managedBy] === 'k3sctl',
  );
}

/** The ownership tags that identify a rule (cluster/service/shared + role). */
export function ruleOwnerTags(tags: Tag[]): Tag[] {
  return tags.filter((t) => OWNER_KEYS.includes(t.Key));
}

/** The one rule on `listenerArn` carrying `owner` tags; UserError when several match. */
export async function findListenerRuleByTags(
  clients: AwsClients,
  listenerArn: string,
  owner: Tag[],
): Promise<ListenerRuleState | undefined> {
  const matches = (await listListenerRules(clients, listenerArn)).filter((r) => hasTags(r.tags, owner));
  if (matches.length > 1) {
    throw new UserError(
      `${matches.length} listener rules carry ${owner.map((t) => `${t.Key}=${t.Value}`).join(', ')}: ${matches.map((m) => `${m.arn} (priority ${m.priority})`).join(', ')}`,
      'delete the extra rules so that exactly one remains',
    );
  }
  return matches[0];
}

/** Lowest priority in 1..50000 not in `used`. */
export function lowestFreePriority(used: Iterable<number>): number {
  const taken = new Set(used);
  for (let p = 1; p <= MAX_PRIORITY; p++) if (!taken.has(p)) return p;
  throw new UserError(`no free listener rule priority (1-${MAX_PRIORITY})`);
}

export async function deleteListenerRule(clients: AwsClients, arn: string): Promise<void> {
  await ignoringNotFound(() => clients.elbv2.send(new DeleteRuleCommand({ RuleArn: arn })), 'RuleNotFound');
}

/** The cluster's ingress rules: on every listener of the ALBs its own ingress target groups are on. */
async function discoverIngressRules(scope: ClusterScope): Promise<Owned[]> {
  const owner = ruleOwnerTags(clusterTags(scope.cluster, 'ingress'));
  const found = await Promise.all(
    (await ownedIngressTargetGroups(scope)).flatMap((tg) =>
      tg.loadBalancerArns.map(async (lbArn) => {
        const listeners = await listListeners(scope.clients, lbArn);
        return Promise.all(listeners.map((l) => findListenerRuleByTags(scope.clients, l.ListenerArn!, owner)));
      }),
    ),
  );
  const rules: Owned[] = [];
  for (const rule of found.flat()) {
    if (rule && !rules.some((r) => r.id === rule.arn)) rules.push({ name: rule.hostHeaders.join(',') || rule.arn, id: rule.arn });
  }
  return rules;
}

/** Deletes listener rules, journaled; forward only (no undo re-creates what is being removed). */
export async function deleteListenerRules(ctx: RunContext, rules: readonly { arn: string; name: string }[]): Promise<void> {
  for (const r of rules) {
    await journaledWrite(ctx, { action: 'delete', type: LISTENER_RULE_TYPE, name: r.name, id: r.arn }, () => deleteListenerRule(ctx.clients, r.arn));
  }
}

/** The cluster's rule on each ingress ALB: `*--NAME.REGION.ZONE` forwarding to its target group there. */
function ingressRuleTasks(view: ClusterView): Task[] {
  const ingress = view.ingress;
  return (ingress?.albs ?? []).map((alb) =>
    listenerRuleTask(
      {
        name: alb.ruleName,
        listenerArn: alb.listenerArn,
        hostHeaders: [ingress!.host],
        sourceIps: ingress!.sourceCidrs,
        forward: [{ targetGroup: ingressTargetGroupRef(alb.targetGroupName), weight: 1 }],
        tags: clusterTags(view.name, 'ingress', { name: ingress!.host }),
      },
      `listenerRule/${alb.targetGroupName}`,
    ),
  );
}

export const listenerRuleProvider: Provider = {
  type: LISTENER_RULE_TYPE,
  clusterTasks: ingressRuleTasks,
  iamActions: {
    read: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetGroups'],
    write: ['elasticloadbalancing:CreateRule', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:AddTags'],
    delete: ['elasticloadbalancing:DeleteRule'],
  },
  // A rule forwards to the targets the groups' attachments register: they are attached before it
  // forwards, and detached only once it no longer does (no request reaches a target group being emptied).
  dependsOn: [
    'AWS::ElasticLoadBalancingV2::Listener',
    'AWS::ElasticLoadBalancingV2::TargetGroup',
    'AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment',
  ],
  discover: discoverIngressRules,
  // Forward only: no undo re-creates the rule of a cluster being deleted.
  deleteOwned: (run, owned) =>
    run.step('stop ingress traffic: delete the listener rules', (ctx) => deleteListenerRules(ctx, owned.map((r) => ({ arn: r.id, name: r.name })))),
  undo: {
    async delete(clients, data) {
      let arn = data.arn as string | undefined;
      if (!arn && data.listenerArn && data.owner) {
        try {
          arn = (await findListenerRuleByTags(clients, data.listenerArn as string, data.owner as Tag[]))?.arn;
        } catch (error) {
          if (!isAwsError(error, 'ListenerNotFound')) throw error;
        }
      }
      if (arn) await deleteListenerRule(clients, arn);
    },
    async restore(clients, data) {
      try {
        await clients.elbv2.send(
          new ModifyRuleCommand({
            RuleArn: data.arn as string,
            Actions: data.actions as Action[],
            ...(data.conditions ? { Conditions: requestConditions(data.conditions as RuleCondition[]) } : {}),
          }),
        );
      } catch (error) {
        if (!isAwsError(error, 'RuleNotFound')) throw error;
      }
    },
  },
};

/**
 * Conditions as DescribeRules returned them, fit for ModifyRule: DescribeRules gives a host-header or
 * source-ip condition both as legacy `Values` and as its `*Config`, and ModifyRule refuses the two
 * together (ValidationError): the `*Config` is kept.
 */
export function requestConditions(conditions: RuleCondition[]): RuleCondition[] {
  return conditions.map((c) => {
    const hasConfig = Object.keys(c).some((k) => k.endsWith('Config') && (c as Record<string, unknown>)[k] !== undefined);
    if (!hasConfig || c.Values === undefined) return c;
    const { Values: _values, ...rest } = c;
    return rest;
  });
}

function buildConditions(hostHeaders: string[], sourceIps: string[] | undefined): RuleCondition[] {
  const c: RuleCondition[] = [{ Field: 'host-header', HostHeaderConfig: { Values: hostHeaders } }];
  if (sourceIps?.length) c.push({ Field: 'source-ip', SourceIpConfig: { Values: sourceIps } });
  return c;
}

/** A weighted forward action (with optional target-group stickiness). */
export function forwardAction(
  targets: { targetGroupArn: string; weight: number }[],
  stickinessSeconds?: number,
): Action[] {
  return [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: targets.map((t) => ({ TargetGroupArn: t.targetGroupArn, Weight: t.weight })),
        TargetGroupStickinessConfig: stickinessSeconds
          ? { Enabled: true, DurationSeconds: stickinessSeconds }
          : { Enabled: false },
      },
    },
  ];
}

/**
 * Re-weights the forward action of `rule` (same target groups, new weights by target group ARN),
 * journaling a `restore` of the previous actions. Returns the new state.
 */
export async function updateRuleWeights(
  ctx: RunContext,
  rule: ListenerRuleState,
  weights: Record<string, number>,
  name = rule.hostHeaders.join(','),
): Promise<ListenerRuleState> {
  const targets = rule.forward.map((t) => ({
    targetGroupArn: t.targetGroupArn,
    weight: weights[t.targetGroupArn] ?? t.weight,
  }));
  validateForward(targets);
  if (targets.every((t, i) => t.weight === rule.forward[i].weight)) return rule;
  const actions = forwardAction(targets, rule.stickinessSeconds);
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: LISTENER_RULE_TYPE,
      name,
      id: rule.arn,
      undo: { type: LISTENER_RULE_TYPE, action: 'restore', data: { arn: rule.arn, actions: rule.actions } },
    },
    () => ctx.clients.elbv2.send(new ModifyRuleCommand({ RuleArn: rule.arn, Actions: actions })),
  );
  return { ...rule, forward: targets, actions };
}

function sameSet(a: string[], b: string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function resolveTargets(
  ctx: RunContext,
  forward: ForwardTarget[],
): { targetGroupArn: string; weight: number }[] {
  return forward.map((f) => {
    let arn = f.targetGroupArn;
    if (!arn && f.targetGroup) arn = ctx.get(f.targetGroup)?.arn;
    return { targetGroupArn: arn ?? `(${f.targetGroup?.key ?? 'new target group'})`, weight: f.weight };
  });
}

/**
 * The listener rule of `spec`: found by its ownership tags on the listener. Refused (UserError, before
 * any write) when another rule that is not this one already routes one of the same host headers.
 */
export function listenerRuleTask(spec: ListenerRuleSpec, key = 'listenerRule'): Task<ListenerRuleState> {
  validateForward(spec.forward);
  if (
    spec.stickinessSeconds !== undefined &&
    (spec.stickinessSeconds < 1 || spec.stickinessSeconds > MAX_STICKINESS_SECONDS)
  ) {
    throw new UserError(
      `stickiness ${spec.stickinessSeconds}s is out of range (1s-7d)`,
      undefined,
      '--stickiness',
    );
  }
  const owner = ruleOwnerTags(spec.tags);
  if (owner.length === 0)
    throw new Error('listenerRuleTask needs ownership tags (cluster, service or shared)');
  const name = spec.name ?? spec.hostHeaders.join(',');
  const conditions = buildConditions(spec.hostHeaders, spec.sourceIps);

  const ownedBySpec = (r: ListenerRuleState) => hasTags(r.tags, owner);
  const overlaps = (r: ListenerRuleState) => r.hostHeaders.some((h) => spec.hostHeaders.includes(h));

  return {
    key,
    type: LISTENER_RULE_TYPE,
    name,
    dependsOn: spec.forward.flatMap((f) => (f.targetGroup ? [f.targetGroup] : [])),
    async find(ctx) {
      const rules = await listListenerRules(ctx.clients, spec.listenerArn);
      const mine = rules.filter(ownedBySpec);
      if (mine.length > 1) {
        throw new UserError(
          `${mine.length} listener rules carry ${owner.map((t) => `${t.Key}=${t.Value}`).join(', ')} (priorities ${mine.map((m) => m.priority).join(', ')})`,
          'delete the extra rules so that exactly one remains',
        );
      }
      const foreign = rules.find((r) => !ownedBySpec(r) && overlaps(r));
      if (foreign) {
        const who =
          foreign.tags[TagKeys.service] ?? foreign.tags[TagKeys.cluster] ?? foreign.tags[TagKeys.shared];
        throw new UserError(
          `host ${foreign.hostHeaders.join(', ')} is already routed by listener rule priority ${foreign.priority}${who ? ` (k3sctl ${who})` : ' (not managed by k3sctl)'}`,
          'choose another service name or zone, or delete the other rule first',
        );
      }
      return mine[0];
    },
    settings() {
      return spec.sourceIps?.length ? [`sourceIps: ${spec.sourceIps.join(',')}`] : [];
    },
    // Conditions, actions and tags change in place (ModifyRule, AddTags): no replacement. The priority
    // is not managed (a free one is taken at create).
    diff(actual, ctx) {
      const changes: FieldChange[] = [];
      if (!sameSet(actual.hostHeaders, spec.hostHeaders))
        changes.push({ field: 'hosts', from: actual.hostHeaders.join(','), to: spec.hostHeaders.join(',') });
      if (!sameSet(actual.sourceIps, spec.sourceIps ?? [])) {
        changes.push({
          field: 'sourceIps',
          from: actual.sourceIps.join(',') || '(any)',
          to: (spec.sourceIps ?? []).join(',') || '(any)',
        });
      }
      const want = resolveTargets(ctx, spec.forward);
      const fmt = (ts: { targetGroupArn: string; weight: number }[]) =>
        ts
          .map((t) => `${t.targetGroupArn.split('/').slice(-2, -1)[0] ?? t.targetGroupArn}=${t.weight}`)
          .sort()
          .join(',');
      const wantKey = want
        .map((t) => `${t.targetGroupArn}=${t.weight}`)
        .sort()
        .join(',');
      const haveKey = actual.forward
        .map((t) => `${t.targetGroupArn}=${t.weight}`)
        .sort()
        .join(',');
      if (wantKey !== haveKey) changes.push({ field: 'forward', from: fmt(actual.forward), to: fmt(want) });
      if ((actual.stickinessSeconds ?? 0) !== (spec.stickinessSeconds ?? 0)) {
        changes.push({
          field: 'stickiness',
          from: `${actual.stickinessSeconds ?? 'off'}`,
          to: `${spec.stickinessSeconds ?? 'off'}`,
        });
      }
      return changes.concat(tagChanges(spec.tags, actual.tags));
    },
    async create(ctx) {
      const actions = forwardAction(resolveTargets(ctx, spec.forward), spec.stickinessSeconds);
      const tried = new Set<number>();
      let created: Rule | undefined;
      for (let attempt = 0; !created; attempt++) {
        const rules = await listListenerRules(ctx.clients, spec.listenerArn);
        if (rules.length >= MAX_RULES_PER_ALB) {
          throw new UserError(
            `the listener already has ${rules.length} rules; an ALB allows ${MAX_RULES_PER_ALB}`,
            'use another ALB',
          );
        }
        const priority = lowestFreePriority([...rules.map((r) => r.priority), ...tried]);
        try {
          const res = await journaledWrite(
            ctx,
            {
              action: 'create',
              type: LISTENER_RULE_TYPE,
              name,
              undo: {
                type: LISTENER_RULE_TYPE,
                action: 'delete',
                data: { listenerArn: spec.listenerArn, owner },
              },
            },
            () =>
              ctx.clients.elbv2.send(
                new CreateRuleCommand({
                  ListenerArn: spec.listenerArn,
                  Priority: priority,
                  Conditions: conditions,
                  Actions: actions,
                  Tags: spec.tags,
                }),
              ),
            (out) => {
              const arn = out.Rules?.[0]?.RuleArn;
              return {
                id: arn,
                undo: {
                  type: LISTENER_RULE_TYPE,
                  action: 'delete',
                  data: { arn, listenerArn: spec.listenerArn, owner },
                },
              };
            },
          );
          created = res.Rules?.[0];
          if (!created) throw new Error(`CreateRule returned no rule for ${name}`);
        } catch (error) {
          // PriorityInUse: another run took this priority between our read and our write.
          if (!isAwsError(error, 'PriorityInUse') || attempt + 1 >= PRIORITY_ATTEMPTS) throw error;
          tried.add(priority);
        }
      }
      const mine = toState(
        created,
        spec.listenerArn,
        tagMapOf(spec.tags),
      );
      return settleConcurrentDuplicates(ctx, spec, mine, name);
    },
    async update(actual, _changes, ctx) {
      const actions = forwardAction(resolveTargets(ctx, spec.forward), spec.stickinessSeconds);
      const wantActions = JSON.stringify(actions);
      const wantConditions = JSON.stringify(conditions);
      let state = actual;
      if (
        wantActions !== JSON.stringify(forwardAction(actual.forward, actual.stickinessSeconds)) ||
        !sameSet(actual.hostHeaders, spec.hostHeaders) ||
        !sameSet(actual.sourceIps, spec.sourceIps ?? [])
      ) {
        await journaledWrite(
          ctx,
          {
            action: 'update',
            type: LISTENER_RULE_TYPE,
            name,
            id: actual.arn,
            undo: {
              type: LISTENER_RULE_TYPE,
              action: 'restore',
              data: { arn: actual.arn, actions: actual.actions, conditions: actual.conditions },
            },
          },
          () =>
            ctx.clients.elbv2.send(
              new ModifyRuleCommand({
                RuleArn: actual.arn,
                Actions: actions,
                Conditions: JSON.parse(wantConditions),
              }),
            ),
        );
        const fwd = forwardOf(actions);
        state = {
          ...state,
          actions,
          conditions,
          forward: fwd.targets,
          stickinessSeconds: fwd.stickiness,
          hostHeaders: spec.hostHeaders,
          sourceIps: spec.sourceIps ?? [],
        };
      }
      await addElbTags(ctx, LISTENER_RULE_TYPE, name, actual.arn, spec.tags, actual.tags);
      return state;
    },
    id: (a) => a.arn,
  };
}

/**
 * After a create: when a concurrent run created a rule for the same hosts, exactly one survives. Two
 * rules of the same owner (the same command run twice at once): the lower priority wins and the other
 * run deletes its own and adopts the winner. A rule of another owner: the later one (higher priority)
 * fails, and its run rolls back.
 */
async function settleConcurrentDuplicates(
  ctx: RunContext,
  spec: ListenerRuleSpec,
  mine: ListenerRuleState,
  name: string,
): Promise<ListenerRuleState> {
  const owner = ruleOwnerTags(spec.tags);
  const others = (await listListenerRules(ctx.clients, spec.listenerArn)).filter(
    (r) =>
      r.arn !== mine.arn &&
      r.tags[TagKeys.managedBy] === 'k3sctl' &&
      r.hostHeaders.some((h) => spec.hostHeaders.includes(h)),
  );
  if (others.length === 0) return mine;
  const twins = others.filter((r) => hasTags(r.tags, owner));
  const winner = [mine, ...twins].sort((a, b) => a.priority - b.priority)[0];
  const strangers = others.filter((r) => !hasTags(r.tags, owner) && r.priority < mine.priority);
  if (strangers.length > 0) {
    throw new Error(
      `listener rule for ${spec.hostHeaders.join(', ')} collided with a rule created at the same time (priority ${strangers[0].priority}); rolling back`,
    );
  }
  if (winner.arn === mine.arn) return mine;
  await journaledWrite(ctx, { action: 'delete', type: LISTENER_RULE_TYPE, name, id: mine.arn }, () =>
    deleteListenerRule(ctx.clients, mine.arn),
  );
  return winner;
}
