// endpoint weight SERVICE alpha=3 bravo=1: re-weights the clusters behind an ingress-mode endpoint.
// With `shiftOverMs`, traffic moves in `steps` equal steps spaced evenly over that time (on the run's
// clock); before each step the clusters that gain traffic must have at least one healthy target, or the
// shift stops and the run's rollback restores the weights it started from.
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import { validateWeights } from '../../config/ingress';
import { names } from '../../aws/names';
import {
  endpointConfigTask,
  getEndpointConfig,
  type StoredEndpointConfig,
} from '../../resources/endpointConfig';
import {
  LISTENER_RULE_TYPE,
  findListenerRuleByTags,
  ruleOwnerTags,
  updateRuleWeights,
  type ListenerRuleState,
} from '../../resources/listenerRule';
import { findTargetGroupByArn, targetGroupHealth } from '../../resources/targetGroup';
import { targetGroupNameOfArn } from '../../aws/arns';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, sleepUnlessAborted, type RunContext, type RunOptions, type WorkflowResult } from '../engine';
import { endpointTags } from '../steps/endpointTags';

export interface EndpointWeightResult {
  dryRun: boolean;
  planned?: PlannedChange[];
  service: string;
  from: Record<string, number>;
  to: Record<string, number>;
  /** Weights after each applied step (gradual shifts). */
  steps: Record<string, number>[];
}

export const DEFAULT_SHIFT_STEPS = 10;

function fmt(w: Record<string, number>): string {
  return Object.entries(w)
    .map(([c, n]) => `${c}=${n}`)
    .join(',');
}

/** The weights of step `i` of `n` between `from` and `to` (rounded; the last step is exactly `to`). */
export function intermediateWeights(
  from: Record<string, number>,
  to: Record<string, number>,
  i: number,
  n: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of Object.keys(to))
    out[c] = i >= n ? to[c] : Math.round(from[c] + ((to[c] - from[c]) * i) / n);
  return out;
}

export async function endpointWeight(
  deps: WorkflowDeps,
  input: {
    service: string;
    weights: Record<string, number>;
    shiftOverMs?: number;
    steps?: number;
    dryRun?: boolean;
  },
  options: { confirm?: (changes: PlannedChange[]) => Promise<boolean> } & RunOptions = {},
): Promise<WorkflowResult<EndpointWeightResult>> {
  if (Object.keys(input.weights).length === 0)
    throw new UserError('no weights given', 'e.g. k3sctl endpoint weight blog alpha=3 bravo=1', 'WEIGHTS');
  const steps = input.steps ?? DEFAULT_SHIFT_STEPS;
  if (input.shiftOverMs !== undefined && (!Number.isInteger(steps) || steps < 1 || steps > 100)) {
    throw new UserError(`--step ${input.steps} is out of range (1-100)`, undefined, '--step');
  }
  return runWorkflow(
    deps,
    `endpoint weight ${input.service}`,
    async (run) => {
      const clients = run.ctx.clients;
      const config = await getEndpointConfig(clients, input.service);
      if (!config)
        throw new UserError(
          `SERVICE ${input.service}: no endpoint of that name in ${deps.region}`,
          'k3sctl endpoint list',
          'SERVICE',
        );
      if (config.mode !== 'ingress') {
        throw new UserError(
          `SERVICE ${input.service}: the endpoint is in nodeport mode: one service target group serves every cluster, so there are no per-cluster weights`,
          'scale the service in each cluster instead, or recreate the endpoint in ingress mode',
          'SERVICE',
        );
      }
      for (const c of Object.keys(input.weights)) {
        if (!config.clusters.includes(c)) {
          throw new UserError(
            `WEIGHTS: cluster ${c} is not behind endpoint ${input.service} (clusters: ${config.clusters.join(', ')})`,
            undefined,
            'WEIGHTS',
          );
        }
      }
      const rule = await findListenerRuleByTags(
        clients,
        config.listenerArn,
        ruleOwnerTags(endpointTags(input.service)),
      );
      if (!rule)
        throw new UserError(
          `SERVICE ${input.service}: the endpoint has no listener rule`,
          `run 'k3sctl endpoint create ${input.service}' again to repair it`,
          'SERVICE',
        );
      const arnOf = new Map<string, string>();
      const from: Record<string, number> = {};
      for (const c of config.clusters) {
        // The cluster's target group on the endpoint's ALB: one of its ingress target group names.
        const fwd = rule.forward.find(
          (f) => names.ingressSlot(c, targetGroupNameOfArn(f.targetGroupArn)) !== undefined,
        );
        const tg = fwd ? await findTargetGroupByArn(clients, fwd.targetGroupArn) : undefined;
        if (!tg || !fwd)
          throw new UserError(
            `cluster ${c}'s target group is not in endpoint ${input.service}'s rule`,
            `run 'k3sctl endpoint create ${input.service}' again to repair it`,
          );
        arnOf.set(c, tg.arn);
        from[c] = fwd.weight;
      }
      const to = { ...from, ...input.weights };
      validateWeights(to, 'WEIGHTS');
      const planned: PlannedChange[] = [
        {
          action: fmt(from) === fmt(to) ? 'noop' : 'update',
          type: LISTENER_RULE_TYPE,
          name: config.host,
          id: rule.arn,
          ...(fmt(from) !== fmt(to)
            ? {
                details: [
                  `weights: ${fmt(from)} -> ${fmt(to)}${input.shiftOverMs ? ` in ${steps} steps` : ''}`,
                ],
              }
            : {}),
        },
      ];
      deps.events.emit({ kind: 'plan', changes: planned });
      const base = { service: input.service, from, to };
      if (input.dryRun) return { ...base, dryRun: true, planned, steps: [] };
      if (fmt(from) === fmt(to)) return { ...base, dryRun: false, steps: [] };
      if (options.confirm && !(await options.confirm(planned)))
        throw new UserError('cancelled: the weights were not changed');

      const applyWeights = async (ctx: RunContext, current: ListenerRuleState, w: Record<string, number>) =>
        updateRuleWeights(
          ctx,
          current,
          Object.fromEntries(Object.entries(w).map(([c, n]) => [arnOf.get(c) as string, n])),
          config.host,
        );
      const applied: Record<string, number>[] = [];
      let current = rule;
      if (!input.shiftOverMs) {
        current = await run.step(`set weights of ${config.host}: ${fmt(to)}`, (ctx) =>
          applyWeights(ctx, current, to),
        );
        applied.push(to);
      } else {
        const receivers = Object.keys(to).filter((c) => to[c] > from[c]);
        const interval = Math.floor(input.shiftOverMs / steps);
        for (let i = 1; i <= steps; i++) {
          const w = intermediateWeights(from, to, i, steps);
          current = await run.step(`step ${i}/${steps}: weights of ${config.host} ${fmt(w)}`, async (ctx) => {
            for (const c of receivers) {
              const health = await targetGroupHealth(ctx.clients, arnOf.get(c) as string);
              if (health.healthy === 0) {
                const seen =
                  Object.entries(health.states)
                    .map(([s, n]) => `${n} ${s}`)
                    .join(', ') || 'no targets';
                throw new Error(
                  `shift stopped at step ${i}/${steps}: cluster ${c} receives traffic but its target group ${targetGroupNameOfArn(arnOf.get(c)!)} has no healthy target (${seen}); restoring ${fmt(from)}`,
                );
              }
            }
            if (!Object.values(w).some((n) => n > 0)) return current;
            return applyWeights(ctx, current, w);
          });
          applied.push(w);
          if (i < steps) await sleepUnlessAborted(deps.clock, interval, options.signal);
        }
      }
      await run.apply([endpointConfigTask((): StoredEndpointConfig => ({ ...config, weights: to }))]);
      return { ...base, dryRun: false, steps: applied };
    },
    options,
  );
}
