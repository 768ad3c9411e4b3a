// alb create NAME: the shared ALB of the seed's `shared_alb` module — an upstream security group (80/443
// from the given CIDRs), a downstream security group for instances (80 and the NodePort range from
// upstream only), the ALB in the VPC's subnets, listener 80 redirecting to 443 and listener 443 with the
// certificate and a fixed 404 default. Waits until the ALB is active.
import { sharedTags } from '../../aws/tags';
import { resolveSubnets, resolveVpc } from '../../aws/lookups';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import type { AlbSpec } from '../../config/ingress';
import { describeCertificate, resolveCertificate } from '../../resources/certificate';
import { listenerTask } from '../../resources/listener';
import { describeLoadBalancerState, loadBalancerTask } from '../../resources/loadBalancer';
import { albSecurityGroupTask } from '../../resources/securityGroupRule';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, waitFor, type RunOptions, type WorkflowResult } from '../engine';
import type { Task } from '../../provider/types';
import { requiredOutput } from '../../provider/taskRef';

export interface AlbSummary {
  name: string;
  arn?: string;
  dnsName?: string;
  canonicalHostedZoneId?: string;
  scheme: string;
  vpcId: string;
  subnetIds: string[];
  securityGroups: { upstream?: string; downstream?: string };
  certificateArn?: string;
  listeners: { port: number; arn?: string }[];
  state?: string;
}

export interface AlbCreateResult {
  dryRun: boolean;
  planned?: PlannedChange[];
  alb: AlbSummary;
}

const ALB_ACTIVE_TIMEOUT_MS = 15 * 60_000;

export async function albCreate(
  deps: WorkflowDeps,
  spec: AlbSpec,
  options: { dryRun?: boolean } & RunOptions = {},
): Promise<WorkflowResult<AlbCreateResult>> {
  return runWorkflow(
    deps,
    `alb create ${spec.name}`,
    async (run) => {
      const clients = run.ctx.clients;
      const vpc = await resolveVpc(clients, { id: spec.vpcId, name: spec.vpc });
      const subnets = await resolveSubnets(clients, vpc.vpcId, {
        ids: spec.subnetIds,
        filters: spec.subnetFilters,
      });
      const zones = new Set(subnets.map((s) => s.availabilityZone));
      if (zones.size < 2) {
        const field = spec.subnetIds ? '--subnet-id' : '--subnet-filter';
        throw new UserError(
          `${field}: an ALB needs subnets in at least two Availability Zones; the selection has ${[...zones].join(', ') || 'none'}`,
          'select subnets of two or more zones',
          field,
        );
      }
      // One subnet per zone (ALB: InvalidConfigurationRequest for two subnets of one zone).
      const perZone = new Map<string, string>();
      for (const s of subnets)
        if (!perZone.has(s.availabilityZone)) perZone.set(s.availabilityZone, s.subnetId);
      let certificateArn: string | undefined;
      if (spec.certificate || spec.certificateDomain) {
        const cert = spec.certificate
          ? await describeCertificate(clients, spec.certificate)
          : await resolveCertificate(clients, spec.certificateDomain ?? '', '--certificate-domain');
        const field = spec.certificate ? '--certificate' : '--certificate-domain';
        if (!cert)
          throw new UserError(
            `${field}: certificate ${spec.certificate} does not exist in ${deps.region}`,
            undefined,
            field,
          );
        if (cert.status !== 'ISSUED') {
          throw new UserError(
            `${field}: certificate ${cert.arn} (${cert.domain}) is ${cert.status}, not ISSUED`,
            `wait for validation: k3sctl certificate request ${cert.domain}`,
            field,
          );
        }
        certificateArn = cert.arn;
      }
      const tags = sharedTags('alb', spec.name);
      const upstream = albSecurityGroupTask(
        { alb: spec.name, role: 'upstream', vpcId: vpc.vpcId, ingressCidrs: spec.ingressCidrs },
        'securityGroup/upstream',
      );
      const downstream = albSecurityGroupTask(
        { alb: spec.name, role: 'downstream', vpcId: vpc.vpcId, upstream },
        'securityGroup/downstream',
      );
      const loadBalancer = loadBalancerTask(
        {
          name: spec.name,
          internal: spec.internal,
          subnetIds: [...perZone.values()],
          securityGroups: [upstream],
          tags,
        },
        'loadBalancer',
      );
      const listeners = [
        {
          port: 80,
          task: listenerTask(
            { loadBalancer, albName: spec.name, port: 80, redirectToHttps: Boolean(certificateArn), tags },
            'listener/80',
          ),
        },
        ...(certificateArn
          ? [
              {
                port: 443,
                task: listenerTask({ loadBalancer, albName: spec.name, port: 443, certificateArn, tags }, 'listener/443'),
              },
            ]
          : []),
      ];
      const tasks = [upstream, downstream, loadBalancer, ...listeners.map((l) => l.task)] as Task[];
      const planned = await run.plan(tasks);
      const summary = (): AlbSummary => {
        const lb = run.ctx.get(loadBalancer);
        const up = run.ctx.get(upstream);
        const down = run.ctx.get(downstream);
        return {
          name: spec.name,
          arn: lb?.arn,
          dnsName: lb?.dnsName,
          canonicalHostedZoneId: lb?.canonicalHostedZoneId,
          scheme: spec.internal ? 'internal' : 'internet-facing',
          vpcId: vpc.vpcId,
          subnetIds: [...perZone.values()],
          securityGroups: { upstream: up?.groupId, downstream: down?.groupId },
          certificateArn,
          listeners: listeners.map(({ port, task }) => ({ port, arn: run.ctx.get(task)?.arn })),
          state: lb?.state,
        };
      };
      if (options.dryRun) return { dryRun: true, planned, alb: summary() };
      if (!certificateArn) {
        deps.events.emit({
          kind: 'log',
          level: 'warn',
          message: `ALB ${spec.name} has no certificate: no HTTPS listener on 443, and endpoints/automatic ingress need one`,
        });
      }
      await run.apply(tasks);
      const lb = requiredOutput(run.ctx, loadBalancer);
      const state = await run.step(`wait for ALB ${spec.name} active`, (ctx) =>
        waitFor(
          ctx,
          {
            what: `ALB ${spec.name} active`,
            timeoutMs: ALB_ACTIVE_TIMEOUT_MS * (deps.timeoutScale ?? 1),
            intervalMs: 10_000,
          },
          async () => {
            const s = await describeLoadBalancerState(ctx.clients, lb.arn);
            const code = s?.state ?? 'gone';
            if (code === 'failed' || code === 'gone') throw new Error(`ALB ${spec.name} is ${code}`);
            return { done: code === 'active', value: code, seen: code };
          },
        ),
      );
      return { dryRun: false, alb: { ...summary(), state } };
    },
    options,
  );
}
