// Target groups against the sandbox: created tagged in one call, found by name + ownership tags,
// immutable fields refused, health-check path updated and restored, delete retried while in use.
import { clusterTags, sharedTags } from '../../src/aws/tags';
import { runWorkflow } from '../../src/orchestration/engine';
import { requiredOutput } from '../../src/provider/taskRef';
import {
  deleteTargetGroup,
  findTargetGroupByName,
  targetGroupTask,
} from '../../src/resources/targetGroup';
import { Sandbox } from '../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

afterAll(removeTestHomes);

describe('target groups', () => {
  it('creates once, converges the health check path, refuses foreign or immutable differences', async () => {
    const sb = new Sandbox();
    const before = sb.inventory();
    const { deps } = sandboxDeps(sb);
    const vpcId = (await import('../../src/aws/lookups').then((m) => m.resolveVpc(deps.clients, {}))).vpcId;
    const converge = (spec: Parameters<typeof targetGroupTask>[0]) =>
      runWorkflow(sandboxDeps(sb).deps, 'tg', async (run) => {
        const t = targetGroupTask(spec, 'tg');
        await run.plan([t]);
        await run.apply([t]);
        return { tg: requiredOutput(run.ctx, t) };
      });
    const spec = {
      name: 'k3s-alpha-ing',
      vpcId,
      port: 80,
      healthCheckPath: '/ping',
      tags: clusterTags('alpha', 'ingress'),
    };
    const first = await converge(spec);
    expect(first.tg).toMatchObject({ name: 'k3s-alpha-ing', port: 80, healthCheckPath: '/ping' });
    expect(first.apiCalls.write).toBe(1);
    expect((await converge(spec)).apiCalls.write).toBe(0);

    const moved = await converge({ ...spec, healthCheckPath: '/healthz' });
    expect(moved.changes).toEqual([
      expect.objectContaining({ action: 'update', details: ['healthCheckPath: /ping -> /healthz'] }),
    ]);
    expect((await findTargetGroupByName(deps.clients, 'k3s-alpha-ing'))?.healthCheckPath).toBe('/healthz');

    await expect(converge({ ...spec, port: 8080 })).rejects.toThrow(
      /port cannot be changed in place \(port: 80 -> 8080\)/,
    );
    await expect(converge({ ...spec, tags: clusterTags('bravo', 'ingress') })).rejects.toThrow(
      /not owned by this k3sctl resource/,
    );
    await expect(converge({ ...spec, tags: sharedTags('endpoint', 'x') })).rejects.toThrow(/not owned/);

    await deleteTargetGroup(deps.clients, first.tg.arn, sb.clock);
    await deleteTargetGroup(deps.clients, first.tg.arn, sb.clock);
    expect(sb.inventory()).toEqual(before);
  });

  it('rolls back a created target group when the run fails', async () => {
    const sb = new Sandbox();
    const before = sb.inventory();
    const { deps } = sandboxDeps(sb);
    const vpcId = (await import('../../src/aws/lookups').then((m) => m.resolveVpc(deps.clients, {}))).vpcId;
    await expect(
      runWorkflow(deps, 'tg', async (run) => {
        const t = targetGroupTask(
          { name: 'k3s-svc-x', vpcId, port: 30080, tags: sharedTags('endpoint', 'x') },
          'tg',
        );
        await run.apply([t]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(sb.inventory()).toEqual(before);
  });
});
