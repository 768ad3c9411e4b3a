// Shared setup of the ALB/endpoint tests: a certificate, a shared ALB and the automatic ingress of
// clusters (ingress target group + rule `*--CLUSTER.REGION.ZONE`), built with the resource tasks the
// way `cluster create --ingress-alb` does.
import { clusterTags } from '../../../src/aws/tags';
import { buildAlbSpec, buildCertificateSpec } from '../../../src/config/ingress';
import { names } from '../../../src/aws/names';
import { runWorkflow } from '../../../src/orchestration/engine';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { listenerRuleTask } from '../../../src/resources/listenerRule';
import { targetGroupTask } from '../../../src/resources/targetGroup';
import { albCreate } from '../../../src/orchestration/workflows/albCreate';
import { certificateRequest } from '../../../src/orchestration/workflows/certificateRequest';
import { Sandbox, type SandboxState } from '../../../src/sandbox/sandbox';
import { sandboxDeps } from '../../helpers/sandboxDeps';

export const ZONE = 'example.com';
export const REGION = 'us-east-1';

/** Dependencies of one more run against `sb`. */
export function next(sb: Sandbox) {
  return sandboxDeps(sb).deps;
}

export async function createCertificate(sb: Sandbox): Promise<string> {
  const res = await certificateRequest(
    next(sb),
    buildCertificateSpec({ domain: ZONE, sans: [`*.${ZONE}`, `*.${REGION}.${ZONE}`] }),
  );
  return res.certificate.arn as string;
}

export async function createAlb(sb: Sandbox, certificateArn: string, name = 'shared'): Promise<string> {
  const res = await albCreate(next(sb), buildAlbSpec({ name, certificate: certificateArn }));
  return res.alb.arn as string;
}

/** What `cluster create NAME --ingress-alb ALB --ingress-zone ZONE` sets up on the ALB. */
export async function createClusterIngress(sb: Sandbox, cluster: string, alb = 'shared'): Promise<void> {
  const deps = next(sb);
  await runWorkflow(deps, `ingress of ${cluster}`, async (run) => {
    const lb = await findLoadBalancer(run.ctx.clients, alb);
    const listener = await findHttpsListener(run.ctx.clients, lb.arn);
    const tags = clusterTags(cluster, 'ingress');
    const targetGroup = targetGroupTask(
      {
        name: names.ingressTargetGroup(cluster),
        vpcId: lb.vpcId,
        port: 80,
        healthCheckPath: '/ping',
        tags,
      },
      'ingressTargetGroup',
    );
    const tasks = [
      targetGroup,
      listenerRuleTask(
        {
          listenerArn: listener.ListenerArn as string,
          hostHeaders: [names.ingressHost(cluster, REGION, ZONE)],
          forward: [{ targetGroup, weight: 1 }],
          tags,
        },
        'ingressRule',
      ),
    ];
    await run.plan(tasks);
    await run.apply(tasks);
    return {};
  });
}

/** Removes a cluster's ingress rule and target group (what `cluster delete` does for them). */
export async function deleteClusterIngress(sb: Sandbox, cluster: string, alb = 'shared'): Promise<void> {
  const { findListenerRuleByTags, deleteListenerRule } = await import('../../../src/resources/listenerRule');
  const { findTargetGroupByName, deleteTargetGroup } = await import('../../../src/resources/targetGroup');
  const deps = next(sb);
  const lb = await findLoadBalancer(deps.clients, alb);
  const listener = await findHttpsListener(deps.clients, lb.arn);
  const rule = await findListenerRuleByTags(
    deps.clients,
    listener.ListenerArn as string,
    clusterTags(cluster, 'ingress').slice(0, 2),
  );
  if (rule) await deleteListenerRule(deps.clients, rule.arn);
  const tg = await findTargetGroupByName(deps.clients, names.ingressTargetGroup(cluster));
  if (tg) await deleteTargetGroup(deps.clients, tg.arn, deps.clock);
}

/** The state of an account holding the shared ALB (certificate, security groups, listeners), to start cases from. */
export async function sharedAlbState(): Promise<SandboxState> {
  const sb = new Sandbox();
  await createAlb(sb, await createCertificate(sb));
  return structuredClone(sb.state);
}
