// alb delete NAME: deletes a k3sctl ALB, its listeners and its two security groups. Refused while
// listener rules of clusters (automatic ingress) or endpoints remain, unless `force` (then those rules
// go first). The kinds' dependencies order the deletes (steps/deleteInWaves.ts). Security groups are
// deleted once the ALB's network interfaces are gone (DependencyViolation is "not yet").
import { TagKeys } from '../../aws/tags';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import { LISTENER_TYPE, deleteListener } from '../../resources/listener';
import {
  LISTENER_RULE_TYPE,
  deleteListenerRules,
  listListenerRules,
  type ListenerRuleState,
} from '../../resources/listenerRule';
import {
  LOAD_BALANCER_TYPE,
  deleteLoadBalancer,
  findLoadBalancer,
  listListeners,
  waitLoadBalancerGone,
} from '../../resources/loadBalancer';
import { deleteSecurityGroup, listAlbSecurityGroups } from '../../resources/securityGroupRule';
import { SECURITY_GROUP_TYPE } from '../../resources/securityGroup';
import type { WorkflowDeps } from '../deps';
import {
  journaledWrite,
  retryWhileNotReady,
  runWorkflow,
  type RunOptions,
  type WorkflowResult,
} from '../engine';
import { deleteInWaves, inDeletionOrder } from '../steps/deleteInWaves';

export interface AlbDeleteResult {
  dryRun: boolean;
  planned: PlannedChange[];
  alb: { name: string; arn?: string };
}

function ruleOwner(r: ListenerRuleState): string {
  if (r.tags[TagKeys.service]) return `endpoint ${r.tags[TagKeys.service]}`;
  if (r.tags[TagKeys.cluster]) return `cluster ${r.tags[TagKeys.cluster]}`;
  return `rule ${r.hostHeaders.join(',') || r.arn} (not k3sctl's)`;
}

export async function albDelete(
  deps: WorkflowDeps,
  name: string,
  options: {
    dryRun?: boolean;
    force?: boolean;
    confirm?: (changes: PlannedChange[]) => Promise<boolean>;
  } & RunOptions = {},
): Promise<WorkflowResult<AlbDeleteResult>> {
  return runWorkflow(
    deps,
    `alb delete ${name}`,
    async (run) => {
      const clients = run.ctx.clients;
      let lb;
      try {
        lb = await findLoadBalancer(clients, name, 'NAME');
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        lb = undefined;
      }
      if (lb && (lb.tags[TagKeys.role] !== 'alb' || lb.tags[TagKeys.managedBy] !== 'k3sctl')) {
        throw new UserError(`load balancer ${name} was not created by k3sctl; k3sctl deletes only its own`);
      }
      const albName = lb?.name ?? name;
      const listeners = lb ? await listListeners(clients, lb.arn) : [];
      const rules: ListenerRuleState[] = [];
      for (const l of listeners) rules.push(...(await listListenerRules(clients, l.ListenerArn ?? '')));
      if (rules.length > 0 && !options.force) {
        throw new UserError(
          `ALB ${albName} still routes for ${[...new Set(rules.map(ruleOwner))].join(', ')}`,
          `delete those endpoints (k3sctl endpoint delete) and clusters first, or give --force to delete their rules with the ALB`,
        );
      }
      const groups = await listAlbSecurityGroups(clients, albName);
      const planned = inDeletionOrder(deps.providers, [
        ...rules.map((r) => ({
          action: 'delete' as const,
          type: LISTENER_RULE_TYPE,
          name: r.hostHeaders.join(','),
          id: r.arn,
        })),
        ...listeners.map((l) => ({
          action: 'delete' as const,
          type: LISTENER_TYPE,
          name: `${albName}:${l.Port}`,
          id: l.ListenerArn,
        })),
        ...(lb ? [{ action: 'delete' as const, type: LOAD_BALANCER_TYPE, name: albName, id: lb.arn }] : []),
        ...groups
          .sort((a, b) => (a.name.endsWith('downstream') ? -1 : 1) - (b.name.endsWith('downstream') ? -1 : 1))
          .map((g) => ({
            action: 'delete' as const,
            type: SECURITY_GROUP_TYPE,
            name: g.name,
            id: g.groupId,
          })),
      ]);
      deps.events.emit({ kind: 'plan', changes: planned });
      if (options.dryRun) return { dryRun: true, planned, alb: { name: albName, arn: lb?.arn } };
      if (planned.length > 0 && options.confirm && !(await options.confirm(planned)))
        throw new UserError('cancelled: nothing was deleted');
      // What goes of each kind; the order (rules, listeners, the ALB, its security groups) is the kinds'.
      const deletes = new Map<string, () => Promise<unknown>>();
      if (rules.length) {
        const named = rules.map((r) => ({ arn: r.arn, name: r.hostHeaders.join(',') }));
        deletes.set(LISTENER_RULE_TYPE, () => run.step(`delete the listener rules of ALB ${albName}`, (ctx) => deleteListenerRules(ctx, named)));
      }
      if (listeners.length) {
        deletes.set(LISTENER_TYPE, () =>
          run.step(`delete the listeners of ALB ${albName}`, async (ctx) => {
            for (const l of listeners) {
              await journaledWrite(
                ctx,
                { action: 'delete', type: LISTENER_TYPE, name: `${albName}:${l.Port}`, id: l.ListenerArn },
                () => deleteListener(ctx.clients, l.ListenerArn ?? ''),
              );
            }
          }),
        );
      }
      if (lb) {
        const arn = lb.arn;
        deletes.set(LOAD_BALANCER_TYPE, () =>
          run.step(`delete ALB ${albName}`, async (ctx) => {
            await journaledWrite(ctx, { action: 'delete', type: LOAD_BALANCER_TYPE, name: albName, id: arn }, () => deleteLoadBalancer(ctx.clients, arn));
            await waitLoadBalancerGone(ctx.clients, ctx.clock, arn);
          }),
        );
      }
      if (groups.length) {
        // Downstream first: upstream is referenced by downstream's rules.
        const ordered = [...groups].sort(
          (a, b) => Number(b.name.endsWith('downstream')) - Number(a.name.endsWith('downstream')),
        );
        deletes.set(SECURITY_GROUP_TYPE, async () => {
          for (const g of ordered) {
            await run.step(`delete security group ${g.name}`, (ctx) =>
              retryWhileNotReady(
                ctx,
                {
                  what: `security group ${g.groupId} released by the ALB's network interfaces`,
                  timeoutMs: 15 * 60_000 * (deps.timeoutScale ?? 1),
                },
                () =>
                  journaledWrite(
                    ctx,
                    { action: 'delete', type: SECURITY_GROUP_TYPE, name: g.name, id: g.groupId },
                    () => deleteSecurityGroup(ctx.clients, g.groupId),
                  ),
              ),
            );
          }
        });
      }
      await deleteInWaves(deps.providers, deletes);
      return { dryRun: false, planned, alb: { name: albName, arn: lb?.arn } };
    },
    options,
  );
}
