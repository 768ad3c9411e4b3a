// ALB listeners (AWS::ElasticLoadBalancingV2::Listener) of k3sctl's shared ALB: port 80 redirecting to
// HTTPS, port 443 with the certificate and a fixed 404 default. Found by load balancer + port.
import {
  CreateListenerCommand,
  DeleteListenerCommand,
  ModifyListenerCommand,
  type Action,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { tagMapOf, type Tag } from '../aws/tags';
import { journaledWrite } from '../provider/journaledWrite';
import type { Task, TaskRef } from '../provider/types';
import { requiredOutput } from '../provider/taskRef';
import { tagChanges, type FieldChange } from '../provider/fieldChange';
import { addElbTags, describeElbTags } from './elbTags';
import { listListeners, type LoadBalancerState } from './loadBalancer';
import type { Provider } from '../provider/provider';

export const LISTENER_TYPE = 'AWS::ElasticLoadBalancingV2::Listener';
/** A current policy supporting TLS 1.2 and 1.3. */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

export async function deleteListener(clients: AwsClients, arn: string): Promise<void> {
  await ignoringNotFound(() => clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: arn })), 'ListenerNotFound');
}

export const listenerProvider: Provider = {
  type: LISTENER_TYPE,
  dependsOn: ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::CertificateManager::Certificate'],
  undo: {
    async delete(clients, data) {
      let arn = data.arn as string | undefined;
      if (!arn && data.loadBalancerArn) {
        arn = (await listListeners(clients, data.loadBalancerArn as string)).find(
          (l) => l.Port === data.port,
        )?.ListenerArn;
      }
      if (arn) await deleteListener(clients, arn);
    },
    async restore(clients, data) {
      await ignoringNotFound(
        () =>
          clients.elbv2.send(
            new ModifyListenerCommand({
              ListenerArn: data.arn as string,
              Certificates: data.certificateArn ? [{ CertificateArn: data.certificateArn as string }] : undefined,
            }),
          ),
        'ListenerNotFound',
      );
    },
  },
};

export interface ListenerState {
  arn: string;
  port: number;
  protocol: string;
  certificateArn?: string;
  tags: Record<string, string>;
}

export interface ListenerSpec {
  /** The load balancer's task. */
  loadBalancer: TaskRef<LoadBalancerState>;
  /** The ALB's name, for plans and journals (`shared:443`). */
  albName?: string;
  port: 80 | 443;
  /** For 443: the certificate ARN. */
  certificateArn?: string;
  /** For 80: redirect to HTTPS (default true); otherwise a fixed 404 (an ALB without a certificate). */
  redirectToHttps?: boolean;
  tags: Tag[];
}

function toListenerState(l: Listener, tags: Record<string, string>): ListenerState {
  return {
    arn: l.ListenerArn ?? '',
    port: l.Port ?? 0,
    protocol: l.Protocol ?? '',
    certificateArn: l.Certificates?.[0]?.CertificateArn,
    tags,
  };
}

function defaultActions(port: 80 | 443, redirect: boolean): Action[] {
  if (port === 80 && redirect) {
    return [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }];
  }
  return [
    {
      Type: 'fixed-response',
      FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'not found' },
    },
  ];
}

/** Listener `port` of the ALB of task `loadBalancer`: 80 redirects to 443; 443 serves the certificate with a 404 default. */
export function listenerTask(spec: ListenerSpec, key = `listener/${spec.port}`): Task<ListenerState> {
  return {
    key,
    type: LISTENER_TYPE,
    name: spec.albName ? `${spec.albName}:${spec.port}` : `${spec.port}`,
    dependsOn: [spec.loadBalancer],
    async find(ctx) {
      const lb = ctx.get(spec.loadBalancer);
      if (!lb?.arn) return undefined;
      const l = (await listListeners(ctx.clients, lb.arn)).find((x) => x.Port === spec.port);
      if (!l) return undefined;
      const tags = (await describeElbTags(ctx.clients, [l.ListenerArn ?? ''])).get(l.ListenerArn ?? '') ?? {};
      return toListenerState(l, tags);
    },
    // The certificate and tags change in place (ModifyListener, AddTags): no replacement. The port is
    // the listener's identity (found by it), never a change.
    diff(actual) {
      const changes: FieldChange[] = [];
      if (spec.port === 443 && spec.certificateArn && actual.certificateArn !== spec.certificateArn) {
        changes.push({ field: 'certificate', from: actual.certificateArn ?? '(none)', to: spec.certificateArn });
      }
      return changes.concat(tagChanges(spec.tags, actual.tags));
    },
    async create(ctx) {
      const lb = requiredOutput(ctx, spec.loadBalancer);
      const name = `${spec.albName ?? lb.name}:${spec.port}`;
      const res = await journaledWrite(
        ctx,
        {
          action: 'create',
          type: LISTENER_TYPE,
          name,
          undo: { type: LISTENER_TYPE, action: 'delete', data: { loadBalancerArn: lb.arn, port: spec.port } },
        },
        () =>
          ctx.clients.elbv2.send(
            new CreateListenerCommand({
              LoadBalancerArn: lb.arn,
              Port: spec.port,
              Protocol: spec.port === 443 ? 'HTTPS' : 'HTTP',
              ...(spec.port === 443
                ? { Certificates: [{ CertificateArn: spec.certificateArn }], SslPolicy: DEFAULT_SSL_POLICY }
                : {}),
              DefaultActions: defaultActions(spec.port, spec.redirectToHttps ?? true),
              Tags: spec.tags,
            }),
          ),
        (out) => {
          const arn = out.Listeners?.[0]?.ListenerArn;
          return {
            id: arn,
            undo: {
              type: LISTENER_TYPE,
              action: 'delete',
              data: { arn, loadBalancerArn: lb.arn, port: spec.port },
            },
          };
        },
      );
      const l = res.Listeners?.[0];
      if (!l) throw new Error(`CreateListener returned no listener for ${name}`);
      return toListenerState(l, tagMapOf(spec.tags));
    },
    async update(actual, changes, ctx) {
      const lb = requiredOutput(ctx, spec.loadBalancer);
      const name = `${spec.albName ?? lb.name}:${spec.port}`;
      let state = actual;
      if (changes.some((c) => c.field === 'certificate') && spec.certificateArn) {
        await journaledWrite(
          ctx,
          {
            action: 'update',
            type: LISTENER_TYPE,
            name,
            id: actual.arn,
            undo: {
              type: LISTENER_TYPE,
              action: 'restore',
              data: { arn: actual.arn, certificateArn: actual.certificateArn },
            },
          },
          () =>
            ctx.clients.elbv2.send(
              new ModifyListenerCommand({
                ListenerArn: actual.arn,
                Certificates: [{ CertificateArn: spec.certificateArn }],
              }),
            ),
        );
        state = { ...state, certificateArn: spec.certificateArn };
      }
      await addElbTags(ctx, LISTENER_TYPE, name, actual.arn, spec.tags, actual.tags);
      return state;
    },
    id: (a) => a.arn,
  };
}
