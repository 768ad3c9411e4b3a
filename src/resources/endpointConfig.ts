// The declared configuration of a shared endpoint, kept as JSON in SSM /k3sctl/endpoints/SERVICE
// (AWS::SSM::Parameter): mode, zone, ALB, clusters and weights, and for nodeport endpoints the service
// target group that every current and future group of those clusters attaches to.
import { GetParametersByPathCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/clients';
import { sharedTags } from '../aws/tags';
import { awsErrorCode } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { Task, TaskRef } from '../provider/types';
import { SSM_PARAMETER_TYPE, deleteParameters, getParameterValue } from './ssmParameter';

export const ENDPOINT_SSM_PREFIX = '/k3sctl/endpoints';

export function endpointParameterName(service: string): string {
  return `${ENDPOINT_SSM_PREFIX}/${service}`;
}

export interface StoredEndpointConfig {
  service: string;
  region: string;
  mode: 'ingress' | 'nodeport';
  zone: string;
  zoneId: string;
  host: string;
  alb: string;
  albArn: string;
  listenerArn: string;
  clusters: string[];
  /** cluster -> weight (ingress mode). */
  weights: Record<string, number>;
  stickinessSeconds?: number;
  sourceIps?: string[];
  dns: boolean;
  /** nodeport mode: the service target group every group of the clusters attaches to. */
  nodePort?: number;
  healthPath?: string;
  targetGroupName?: string;
  targetGroupArn?: string;
}

export async function getEndpointConfig(
  clients: AwsClients,
  service: string,
): Promise<StoredEndpointConfig | undefined> {
  const p = await getParameterValue(clients, endpointParameterName(service));
  if (!p?.Value) return undefined;
  try {
    return JSON.parse(p.Value) as StoredEndpointConfig;
  } catch {
    return undefined;
  }
}

/** Every endpoint config of the region (paginated). */
export async function listEndpointConfigs(clients: AwsClients): Promise<StoredEndpointConfig[]> {
  const out: StoredEndpointConfig[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.ssm.send(
      new GetParametersByPathCommand({ Path: ENDPOINT_SSM_PREFIX, Recursive: true, NextToken }),
    );
    for (const p of page.Parameters ?? []) {
      try {
        out.push(JSON.parse(p.Value ?? '') as StoredEndpointConfig);
      } catch {
        // not ours to interpret
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out.sort((a, b) => a.service.localeCompare(b.service));
}

/** Nodeport endpoints whose service target group the groups of `cluster` must attach (for cluster/nodegroup creation). */
export async function endpointTargetGroupsForCluster(
  clients: AwsClients,
  cluster: string,
): Promise<{ service: string; targetGroupArn: string }[]> {
  return (await listEndpointConfigs(clients))
    .filter((e) => e.mode === 'nodeport' && e.targetGroupArn && e.clusters.includes(cluster))
    .map((e) => ({ service: e.service, targetGroupArn: e.targetGroupArn as string }));
}

export async function deleteEndpointConfig(clients: AwsClients, service: string): Promise<void> {
  await deleteParameters(clients, [endpointParameterName(service)]);
}

function canonical(c: StoredEndpointConfig): string {
  const sortKeys = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        )
      : v;
  return JSON.stringify(sortKeys(c));
}

/** The endpoint's SSM config, written when missing or different (restore undo of the previous value). */
export function endpointConfigTask(
  config: () => StoredEndpointConfig,
  dependsOn: readonly TaskRef<unknown>[] = [],
  key = 'endpointConfig',
): Task<StoredEndpointConfig & { value: string }> {
  let service = '';
  try {
    service = config().service;
  } catch {
    service = key;
  }
  const name = endpointParameterName(service);
  return {
    key,
    type: SSM_PARAMETER_TYPE,
    name,
    dependsOn,
    async find(ctx) {
      const p = await getParameterValue(ctx.clients, name);
      if (!p?.Value) return undefined;
      try {
        return { ...(JSON.parse(p.Value) as StoredEndpointConfig), value: p.Value };
      } catch {
        return { value: p.Value } as StoredEndpointConfig & { value: string };
      }
    },
    // The parameter's value is overwritten in place (PutParameter): no replacement.
    diff(actual) {
      let desired: StoredEndpointConfig;
      try {
        desired = config();
      } catch {
        return [{ field: 'value', changed: true }];
      }
      const { value: _v, ...rest } = actual;
      return canonical(rest as StoredEndpointConfig) === canonical(desired) ? [] : [{ field: 'value', changed: true }];
    },
    async create(ctx) {
      const c = config();
      const value = JSON.stringify(c);
      try {
        await journaledWrite(
          ctx,
          {
            action: 'create',
            type: SSM_PARAMETER_TYPE,
            name,
            id: name,
            undo: { type: SSM_PARAMETER_TYPE, action: 'delete', data: { name } },
          },
          () =>
            ctx.clients.ssm.send(
              new PutParameterCommand({
                Name: name,
                Value: value,
                Type: 'String',
                Overwrite: false,
                Tags: sharedTags('endpoint', c.service),
                Description: `k3sctl endpoint ${c.service}`,
              }),
            ),
        );
      } catch (error) {
        // Written meanwhile by a concurrent run of the same command: fine when it says the same.
        if (awsErrorCode(error) !== 'ParameterAlreadyExists') throw error;
        const now = await getParameterValue(ctx.clients, name);
        if (!now?.Value || canonical(JSON.parse(now.Value) as StoredEndpointConfig) !== canonical(c))
          throw error;
      }
      return { ...c, value };
    },
    async update(actual, _changes, ctx) {
      const c = config();
      const value = JSON.stringify(c);
      await journaledWrite(
        ctx,
        {
          action: 'update',
          type: SSM_PARAMETER_TYPE,
          name,
          id: name,
          undo: { type: SSM_PARAMETER_TYPE, action: 'restore', data: { name, value: actual.value } },
        },
        () =>
          ctx.clients.ssm.send(
            new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
          ),
      );
      return { ...c, value };
    },
    id: () => name,
  };
}
