// `cluster delete` is generic over the provider registry: a kind added to the registry with `discover`
// and `deleteOwned` is planned, deleted in the order its dependencies give, and a failure of it keeps
// what must outlive it, without any change to the workflow. The synthetic kinds are SSM parameters under
// a path of their own: one depends on the security group (so it goes before it), the other on the first.
import { DeleteParameterCommand, GetParametersByPathCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../../src/aws/clients';
import { buildClusterSpec } from '../../../src/config/cluster';
import { RunFailedError } from '../../../src/orchestration/deps';
import { journaledWrite } from '../../../src/orchestration/engine';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterList } from '../../../src/orchestration/workflows/clusterList';
import type { Provider } from '../../../src/provider/provider';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps, testProviders } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const EXTRA = 'Test::SSM::ClusterExtra';
const WATCHER = 'Test::SSM::ClusterExtraWatcher';
const SECURITY_GROUP = 'AWS::EC2::SecurityGroup';

const pathOf = (kind: string, cluster: string) => `/k3sctl-test/${kind === EXTRA ? 'extra' : 'watcher'}/${cluster}`;

async function parametersUnder(clients: AwsClients, path: string): Promise<string[]> {
  const out = await clients.ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true }));
  return (out.Parameters ?? []).map((p) => p.Name!);
}

/** A kind of SSM parameters under its own path, found by the cluster's name. */
function parameterKind(type: string, dependsOn: string[]): Provider {
  return {
    type,
    dependsOn,
    undo: {},
    async discover(scope) {
      return (await parametersUnder(scope.clients, pathOf(type, scope.cluster))).map((name) => ({ name, id: name }));
    },
    deleteOwned: (run, owned) =>
      run.step(`delete ${type}`, async (ctx) => {
        for (const p of owned) {
          await journaledWrite(ctx, { action: 'delete', type, name: p.name, id: p.id }, () => ctx.clients.ssm.send(new DeleteParameterCommand({ Name: p.id })));
        }
      }),
  };
}

const registry = testProviders.with(parameterKind(EXTRA, [SECURITY_GROUP]), parameterKind(WATCHER, [EXTRA]));

async function withCluster(name: string) {
  const sb = new Sandbox();
  const { home } = sandboxDeps(sb);
  await clusterCreate(sandboxDeps(sb, { home }).deps, buildClusterSpec({ name, region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
  const next = () => sandboxDeps(sb, { home, providers: registry }).deps;
  for (const kind of [EXTRA, WATCHER]) {
    await next().clients.ssm.send(new PutParameterCommand({ Name: `${pathOf(kind, name)}/marker`, Value: 'x', Type: 'String' }));
  }
  return { sb, next };
}

describe('cluster delete with a kind added to the registry', () => {
  it('plans it, deletes it after the kinds that depend on it and before the security group, and finishes', async () => {
    const { next } = await withCluster('newkind');
    const dry = await clusterDelete(next(), 'newkind', { dryRun: true });
    const planned = dry.planned.map((c) => `${c.action} ${c.type}`);
    expect(planned).toEqual(expect.arrayContaining([`delete ${EXTRA}`, `delete ${WATCHER}`]));
    // The plan lists the changes in the order they happen.
    expect(planned.indexOf(`delete ${WATCHER}`)).toBeLessThan(planned.indexOf(`delete ${EXTRA}`));
    expect(planned.indexOf(`delete ${EXTRA}`)).toBeLessThan(planned.indexOf(`delete ${SECURITY_GROUP}`));

    const deleted = await clusterDelete(next(), 'newkind');
    const order = deleted.changes.map((c) => c.type);
    expect(order.indexOf(WATCHER)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(WATCHER)).toBeLessThan(order.indexOf(EXTRA));
    expect(order.indexOf(EXTRA)).toBeLessThan(order.indexOf(SECURITY_GROUP));
    for (const kind of [EXTRA, WATCHER]) expect(await parametersUnder(next().clients, pathOf(kind, 'newkind'))).toEqual([]);
    await expect(clusterDelete(next(), 'newkind')).rejects.toThrow(/does not exist/);
  });

  it('keeps what must outlive it when its delete fails (the security group: the cluster stays listed)', async () => {
    const { sb, next } = await withCluster('newfail');
    // DeleteParameter (singular) is only the synthetic kinds' call: the watcher's delete succeeds first.
    sb.faults.add({ op: 'DeleteParameter', nth: 2, code: 'AccessDenied' });
    const failed = await clusterDelete(next(), 'newfail').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    const types = (failed as RunFailedError).changes.map((c) => c.type);
    expect(types).toContain(WATCHER);
    expect(types).not.toContain(EXTRA);
    expect(types).not.toContain(SECURITY_GROUP);
    // Kinds independent of it were deleted all the same.
    expect(types).toEqual(expect.arrayContaining(['AWS::AutoScaling::AutoScalingGroup', 'AWS::IAM::Role', 'AWS::EC2::LaunchTemplate']));
    expect((await clusterList(next())).clusters).toEqual([expect.objectContaining({ name: 'newfail', status: 'incomplete' })]);

    sb.faults.clear();
    const finished = await clusterDelete(next(), 'newfail');
    expect(finished.changes.map((c) => c.type).sort()).toEqual([SECURITY_GROUP, EXTRA].sort());
  });
});
