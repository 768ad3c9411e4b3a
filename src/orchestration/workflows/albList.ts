// alb list: k3sctl's shared ALBs of the region with their listeners and how many rules each routes.
import { TagKeys } from '../../aws/tags';
import { listListenerRules } from '../../resources/listenerRule';
import { listListeners, listManagedLoadBalancers } from '../../resources/loadBalancer';
import type { WorkflowDeps } from '../deps';

export interface AlbListItem {
  name: string;
  arn: string;
  dnsName: string;
  scheme: string;
  state: string;
  vpcId: string;
  listeners: number[];
  clusters: string[];
  endpoints: string[];
}

export async function albList(deps: WorkflowDeps): Promise<{ albs: AlbListItem[] }> {
  const albs: AlbListItem[] = [];
  for (const lb of await listManagedLoadBalancers(deps.clients)) {
    const listeners = await listListeners(deps.clients, lb.arn);
    const clusters = new Set<string>();
    const endpoints = new Set<string>();
    for (const l of listeners) {
      for (const r of await listListenerRules(deps.clients, l.ListenerArn ?? '')) {
        if (r.tags[TagKeys.service]) endpoints.add(r.tags[TagKeys.service]);
        else if (r.tags[TagKeys.cluster]) clusters.add(r.tags[TagKeys.cluster]);
      }
    }
    albs.push({
      name: lb.name,
      arn: lb.arn,
      dnsName: lb.dnsName,
      scheme: lb.scheme,
      state: lb.state,
      vpcId: lb.vpcId,
      listeners: listeners.map((l) => l.Port ?? 0).sort((a, b) => a - b),
      clusters: [...clusters].sort(),
      endpoints: [...endpoints].sort(),
    });
  }
  return { albs: albs.sort((a, b) => a.name.localeCompare(b.name)) };
}
