// Listener rules against the sandbox: found by tags (never by priority), lowest free priority with
// PriorityInUse retries, foreign rules for the same host refused, weight updates undone by rollback.
import { CreateRuleCommand, SetRulePrioritiesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { sharedTags, TagKeys } from '../../src/aws/tags';
import { UserError } from '../../src/core/errors';
import { RunFailedError } from '../../src/orchestration/deps';
import { runWorkflow } from '../../src/orchestration/engine';
import { requiredOutput } from '../../src/provider/taskRef';
import {
  deleteListenerRule,
  findListenerRuleByTags,
  listenerRuleTask,
  lowestFreePriority,
  ruleOwnerTags,
  updateRuleWeights,
  validateForward,
} from '../../src/resources/listenerRule';
import { findHttpsListener, findLoadBalancer } from '../../src/resources/loadBalancer';
import { findTargetGroupByName } from '../../src/resources/targetGroup';
import { Sandbox } from '../../src/sandbox/sandbox';
import { removeTestHomes } from '../helpers/sandboxDeps';
import {
  createAlb,
  createCertificate,
  createClusterIngress,
  next,
} from '../orchestration/workflows/endpointFixture';

afterAll(removeTestHomes);

let sb: Sandbox;
let listenerArn: string;
let alphaTg: string;
let bravoTg: string;
beforeAll(async () => {
  sb = new Sandbox();
  await createAlb(sb, await createCertificate(sb));
  await createClusterIngress(sb, 'alpha');
  await createClusterIngress(sb, 'bravo');
  const deps = next(sb);
  const lb = await findLoadBalancer(deps.clients, 'shared');
  listenerArn = (await findHttpsListener(deps.clients, lb.arn)).ListenerArn as string;
  alphaTg = (await findTargetGroupByName(deps.clients, 'k3s-alpha-ing'))!.arn;
  bravoTg = (await findTargetGroupByName(deps.clients, 'k3s-bravo-ing'))!.arn;
});

const tags = (service: string) => sharedTags('endpoint', service, { [TagKeys.service]: service });

async function converge(task: ReturnType<typeof listenerRuleTask>) {
  return runWorkflow(next(sb), 'rule', async (run) => {
    await run.plan([task]);
    await run.apply([task]);
    return { rule: requiredOutput(run.ctx, task) };
  });
}

describe('listener rules', () => {
  it('validates forward limits', () => {
    expect(() => validateForward([1, 2, 3, 4, 5, 6].map(() => ({ weight: 1 })))).toThrow(UserError);
    expect(() => validateForward([{ weight: 1000 }])).toThrow(/out of range/);
    expect(() => validateForward([{ weight: 0 }, { weight: 0 }])).toThrow(/every weight is 0/);
    expect(lowestFreePriority([1, 2, 4])).toBe(3);
  });

  it('takes the lowest free priority, retries PriorityInUse, and finds the rule by its tags after it moved', async () => {
    sb.faults.add({ op: 'CreateRule', nth: 1, code: 'PriorityInUse' });
    const task = listenerRuleTask(
      {
        listenerArn,
        hostHeaders: ['a.example.com'],
        forward: [{ targetGroupArn: alphaTg, weight: 1 }],
        tags: tags('a'),
      },
      'a',
    );
    const { rule } = await converge(task);
    sb.faults.clear();
    // 1 and 2 belong to the clusters; 3 was "taken" by the injected collision.
    expect(rule.priority).toBe(4);
    const deps = next(sb);
    await deps.clients.elbv2.send(
      new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: rule.arn, Priority: 40 }] }),
    );
    const again = await converge(task);
    expect(again.apiCalls.write).toBe(0);
    expect(again.rule.arn).toBe(rule.arn);
    expect(again.rule.priority).toBe(40);
  });

  it('refuses a host routed by a foreign rule, and two rules with the same tags', async () => {
    const deps = next(sb);
    await deps.clients.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 77,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['b.example.com'] } }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
        Tags: tags('dup'),
      }),
    );
    await deps.clients.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 78,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['c.example.com'] } }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
        Tags: tags('dup'),
      }),
    );
    const foreign = listenerRuleTask(
      {
        listenerArn,
        hostHeaders: ['b.example.com'],
        forward: [{ targetGroupArn: alphaTg, weight: 1 }],
        tags: tags('b'),
      },
      'b',
    );
    await expect(converge(foreign)).rejects.toThrow(
      /host b.example.com is already routed by listener rule priority 77/,
    );
    await expect(
      findListenerRuleByTags(deps.clients, listenerArn, ruleOwnerTags(tags('dup'))),
    ).rejects.toThrow(/2 listener rules carry/);
  });

  it('updates weights in place and restores them when the run fails', async () => {
    const task = listenerRuleTask(
      {
        listenerArn,
        hostHeaders: ['w.example.com'],
        forward: [
          { targetGroupArn: alphaTg, weight: 1 },
          { targetGroupArn: bravoTg, weight: 1 },
        ],
        tags: tags('w'),
      },
      'w',
    );
    const { rule } = await converge(task);
    await expect(
      runWorkflow(next(sb), 'weights', async (run) => {
        await run.step('weights', (ctx) => updateRuleWeights(ctx, rule, { [alphaTg]: 7 }));
        const mid = await findListenerRuleByTags(run.ctx.clients, listenerArn, ruleOwnerTags(tags('w')));
        expect(mid?.forward.map((f) => f.weight)).toEqual([7, 1]);
        throw new Error('later step failed');
      }),
    ).rejects.toBeInstanceOf(RunFailedError);
    const after = await findListenerRuleByTags(next(sb).clients, listenerArn, ruleOwnerTags(tags('w')));
    expect(after?.forward.map((f) => f.weight)).toEqual([1, 1]);

    // A changed desired weight is an in-place update of the same rule.
    const heavier = listenerRuleTask(
      {
        listenerArn,
        hostHeaders: ['w.example.com'],
        forward: [
          { targetGroupArn: alphaTg, weight: 3 },
          { targetGroupArn: bravoTg, weight: 1 },
        ],
        stickinessSeconds: 60,
        tags: tags('w'),
      },
      'w',
    );
    const updated = await converge(heavier);
    expect(updated.changes).toEqual([expect.objectContaining({ action: 'update', id: rule.arn })]);
    expect(updated.rule).toMatchObject({
      arn: rule.arn,
      stickinessSeconds: 60,
      forward: [expect.objectContaining({ weight: 3 }), expect.objectContaining({ weight: 1 })],
    });

    await deleteListenerRule(next(sb).clients, rule.arn);
    await deleteListenerRule(next(sb).clients, rule.arn); // NotFound is success
    expect(
      await findListenerRuleByTags(next(sb).clients, listenerArn, ruleOwnerTags(tags('w'))),
    ).toBeUndefined();
  });
});
