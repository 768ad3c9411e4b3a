// endpoint describe SERVICE: the endpoint as AWS has it: rule (priority, actual weights), per-cluster
// target group health (ingress) or the service target group's health and attached groups (nodeport),
// and the alias record.
import { targetGroupNameOfArn } from '../../aws/arns';
import { UserError } from '../../core/errors';
import { names } from '../../aws/names';
import { getEndpointConfig } from '../../resources/endpointConfig';
import { findListenerRuleByTags, ruleOwnerTags } from '../../resources/listenerRule';
import { findRecord } from '../../resources/recordSet';
import {
  findTargetGroupByArn,
  findTargetGroupByName,
  listClusterGroupAttachments,
  targetGroupHealth,
  type TargetHealthSummary,
} from '../../resources/targetGroup';
import type { WorkflowDeps } from '../deps';
import { endpointTags } from '../steps/endpointTags';

export interface EndpointDescription {
  service: string;
  host: string;
  mode: 'ingress' | 'nodeport';
  zone: string;
  alb: string;
  rule?: { arn: string; priority: number; sourceIps: string[]; stickinessSeconds?: number };
  clusters: {
    cluster: string;
    weight?: number;
    targetGroup?: string;
    health?: TargetHealthSummary;
    groups?: string[];
  }[];
  targetGroup?: {
    name: string;
    arn: string;
    port?: number;
    healthPath?: string;
    health: TargetHealthSummary;
  };
  dns: { enabled: boolean; record?: string; present: boolean };
  problems: string[];
}

export async function endpointDescribe(
  deps: WorkflowDeps,
  service: string,
): Promise<{ endpoint: EndpointDescription }> {
  const clients = deps.clients;
  const config = await getEndpointConfig(clients, service);
  if (!config)
    throw new UserError(`SERVICE ${service}: no endpoint of that name in ${deps.region}`, 'k3sctl endpoint list', 'SERVICE');
  const problems: string[] = [];
  const rule = await findListenerRuleByTags(
    clients,
    config.listenerArn,
    ruleOwnerTags(endpointTags(service)),
  ).catch((error) => {
    problems.push(`listener rule: ${(error as Error).message}`);
    return undefined;
  });
  if (!rule) problems.push('the listener rule is missing');
  const clusters: EndpointDescription['clusters'] = [];
  let targetGroup: EndpointDescription['targetGroup'];
  if (config.mode === 'ingress') {
    for (const c of config.clusters) {
      // The cluster's target group on the endpoint's ALB: the one of its ingress names the rule forwards to.
      const fwd = rule?.forward.find(
        (f) => names.ingressSlot(c, targetGroupNameOfArn(f.targetGroupArn)) !== undefined,
      );
      const tg = fwd
        ? await findTargetGroupByArn(clients, fwd.targetGroupArn)
        : await findTargetGroupByName(clients, names.ingressTargetGroup(c));
      const weight = fwd?.weight;
      if (!tg) problems.push(`cluster ${c} has no ingress target group`);
      clusters.push({
        cluster: c,
        weight,
        targetGroup: tg?.name,
        ...(tg ? { health: await targetGroupHealth(clients, tg.arn) } : {}),
      });
    }
  } else {
    const tg = config.targetGroupName
      ? await findTargetGroupByName(clients, config.targetGroupName)
      : undefined;
    if (!tg) problems.push(`the service target group ${config.targetGroupName} is missing`);
    else
      targetGroup = {
        name: tg.name,
        arn: tg.arn,
        port: config.nodePort,
        healthPath: config.healthPath,
        health: await targetGroupHealth(clients, tg.arn),
      };
    for (const c of config.clusters) {
      const groups = await listClusterGroupAttachments(clients, c);
      clusters.push({
        cluster: c,
        groups: groups.filter((g) => tg && g.targetGroupArns.includes(tg.arn)).map((g) => g.groupName),
      });
    }
  }
  let present = false;
  if (config.dns) {
    present = Boolean(
      await findRecord(clients, config.zoneId, {
        name: config.host,
        type: 'A',
        setIdentifier: config.region,
      }),
    );
    if (!present) problems.push(`the alias record ${config.host} is missing`);
  }
  return {
    endpoint: {
      service,
      host: config.host,
      mode: config.mode,
      zone: config.zone,
      alb: config.alb,
      ...(rule
        ? {
            rule: {
              arn: rule.arn,
              priority: rule.priority,
              sourceIps: rule.sourceIps,
              ...(rule.stickinessSeconds ? { stickinessSeconds: rule.stickinessSeconds } : {}),
            },
          }
        : {}),
      clusters,
      ...(targetGroup ? { targetGroup } : {}),
      dns: { enabled: config.dns, ...(config.dns ? { record: config.host } : {}), present },
      problems,
    },
  };
}
