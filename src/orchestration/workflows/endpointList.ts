// endpoint list: the shared endpoints of the region, from their SSM configurations.
import { listEndpointConfigs } from '../../resources/endpointConfig';
import type { WorkflowDeps } from '../deps';

export interface EndpointListItem {
  service: string;
  host: string;
  mode: 'ingress' | 'nodeport';
  alb: string;
  clusters: string[];
  weights: Record<string, number>;
  dns: boolean;
}

export async function endpointList(deps: WorkflowDeps): Promise<{ endpoints: EndpointListItem[] }> {
  const configs = (await listEndpointConfigs(deps.clients)).filter(
    (c) => !c.region || c.region === deps.region,
  );
  return {
    endpoints: configs.map((c) => ({
      service: c.service,
      host: c.host,
      mode: c.mode,
      alb: c.alb,
      clusters: c.clusters,
      weights: c.weights,
      dns: c.dns,
    })),
  };
}
