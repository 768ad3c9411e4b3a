// endpoint delete SERVICE: the listener rule, the alias record (when it still points at the endpoint's
// ALB), for nodeport endpoints the service target group (detached from every Auto Scaling group first),
// and the SSM configuration. Missing pieces are skipped, so a half-deleted endpoint can be deleted again.
import { TagKeys } from '../../aws/tags';
import { UserError, isAwsError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import {
  endpointParameterName,
  deleteEndpointConfig,
  getEndpointConfig,
} from '../../resources/endpointConfig';
import {
  LISTENER_RULE_TYPE,
  deleteListenerRules,
  findListenerRuleByTags,
  ruleOwnerTags,
} from '../../resources/listenerRule';
import {
  RECORD_SET_TYPE,
  deleteRecordJournaled,
  findRecord,
  normalizeDnsName,
} from '../../resources/recordSet';
import { describeLoadBalancerState } from '../../resources/loadBalancer';
import { SSM_PARAMETER_TYPE } from '../../resources/ssmParameter';
import {
  TARGET_GROUP_ATTACHMENT_TYPE,
  TARGET_GROUP_TYPE,
  deleteTargetGroupJournaled,
  detachTargetGroup,
  findTargetGroupByName,
  listClusterGroupAttachments,
  type ClusterGroupAttachment,
} from '../../resources/targetGroup';
import type { WorkflowDeps } from '../deps';
import { journaledWrite, runWorkflow, type RunOptions, type WorkflowResult } from '../engine';
import { deleteInWaves, inDeletionOrder } from '../steps/deleteInWaves';
import { endpointTags } from '../steps/endpointTags';

export interface EndpointDeleteResult {
  dryRun: boolean;
  planned: PlannedChange[];
  service: string;
}

export async function endpointDelete(
  deps: WorkflowDeps,
  service: string,
  options: { dryRun?: boolean; confirm?: (changes: PlannedChange[]) => Promise<boolean> } & RunOptions = {},
): Promise<WorkflowResult<EndpointDeleteResult>> {
  return runWorkflow(
    deps,
    `endpoint delete ${service}`,
    async (run) => {
      const clients = run.ctx.clients;
      const config = await getEndpointConfig(clients, service);
      if (!config)
        throw new UserError(`SERVICE ${service}: no endpoint of that name in ${deps.region}`, 'k3sctl endpoint list', 'SERVICE');
      const rule = await findListenerRuleByTags(
        clients,
        config.listenerArn,
        ruleOwnerTags(endpointTags(service)),
      ).catch((error) => {
        if (isAwsError(error, 'ListenerNotFound')) return undefined;
        throw error;
      });
      const record = config.dns
        ? await findRecord(clients, config.zoneId, {
            name: config.host,
            type: 'A',
            setIdentifier: config.region,
          })
        : undefined;
      // Only the record that still aliases this endpoint's ALB is ours to delete.
      const lb = config.albArn ? await describeLoadBalancerState(clients, config.albArn) : undefined;
      const bare = (d: string) => normalizeDnsName(d).replace(/^dualstack\./, '');
      const recordIsOurs =
        Boolean(record?.alias) && (!lb || bare(record?.alias?.dnsName ?? '') === bare(lb.dnsName));
      const tg =
        config.mode === 'nodeport' && config.targetGroupName
          ? await findTargetGroupByName(clients, config.targetGroupName)
          : undefined;
      if (tg && tg.tags[TagKeys.service] !== service)
        throw new UserError(`target group ${tg.name} is not endpoint ${service}'s (tag ${TagKeys.service})`);
      const attachments: ClusterGroupAttachment[] = [];
      if (tg) {
        for (const c of config.clusters)
          attachments.push(
            ...(await listClusterGroupAttachments(clients, c)).filter((g) =>
              g.targetGroupArns.includes(tg.arn),
            ),
          );
      }
      const planned = inDeletionOrder(deps.providers, [
        ...(rule
          ? [{ action: 'delete' as const, type: LISTENER_RULE_TYPE, name: config.host, id: rule.arn }]
          : []),
        ...(record && recordIsOurs
          ? [{ action: 'delete' as const, type: RECORD_SET_TYPE, name: `${config.host} A` }]
          : []),
        ...attachments.map((g) => ({
          action: 'update' as const,
          type: TARGET_GROUP_ATTACHMENT_TYPE,
          name: g.groupName,
          details: [`detach ${tg?.name}`],
        })),
        ...(tg ? [{ action: 'delete' as const, type: TARGET_GROUP_TYPE, name: tg.name, id: tg.arn }] : []),
        { action: 'delete', type: SSM_PARAMETER_TYPE, name: endpointParameterName(service) },
      ], SSM_PARAMETER_TYPE);
      deps.events.emit({ kind: 'plan', changes: planned });
      if (options.dryRun) return { dryRun: true, planned, service };
      if (options.confirm && !(await options.confirm(planned)))
        throw new UserError('cancelled: nothing was deleted');
      // What goes of each kind; the order is the kinds' (the rule before the groups detach the target group
      // it forwards to, the target group after), with the configuration last: it is how a re-run finds
      // what is left of the endpoint.
      const deletes = new Map<string, () => Promise<unknown>>();
      if (rule) {
        deletes.set(LISTENER_RULE_TYPE, () =>
          run.step(`delete listener rule ${config.host}`, (ctx) => deleteListenerRules(ctx, [{ arn: rule.arn, name: config.host }])),
        );
      }
      if (record && recordIsOurs) {
        deletes.set(RECORD_SET_TYPE, () =>
          run.step(`delete alias record ${config.host}`, (ctx) =>
            deleteRecordJournaled(ctx, config.zoneId, {
              name: config.host,
              type: 'A',
              setIdentifier: config.region,
            }),
          ),
        );
      }
      if (tg) {
        if (attachments.length) {
          deletes.set(TARGET_GROUP_ATTACHMENT_TYPE, () =>
            run.step(`detach target group ${tg.name}`, async (ctx) => {
              for (const g of attachments) await detachTargetGroup(ctx, g, tg.arn);
            }),
          );
        }
        deletes.set(TARGET_GROUP_TYPE, () =>
          run.step(`delete target group ${tg.name}`, (ctx) => deleteTargetGroupJournaled(ctx, { arn: tg.arn, name: tg.name })),
        );
      }
      deletes.set(SSM_PARAMETER_TYPE, () =>
        run.step(`delete configuration ${endpointParameterName(service)}`, (ctx) =>
          journaledWrite(
            ctx,
            {
              action: 'delete',
              type: SSM_PARAMETER_TYPE,
              name: endpointParameterName(service),
              id: endpointParameterName(service),
            },
            () => deleteEndpointConfig(ctx.clients, service),
          ),
        ),
      );
      await deleteInWaves(deps.providers, deletes, SSM_PARAMETER_TYPE);
      return { dryRun: false, planned, service };
    },
    options,
  );
}
