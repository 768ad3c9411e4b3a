// A kind added to the provider registry, and nowhere else, takes part in every cluster workflow: `cluster
// create` plans and creates what its provider contributes (after the kinds it refers to, reading their
// outputs through typed refs), a failure later in the run rolls it back through its provider's undo, a
// re-run finds it unchanged, and `cluster delete` plans it, deletes it in the order its dependencies give,
// and a failure of it keeps what must outlive it; doctor and the preflight check its IAM actions. A kind
// a cluster has per group is created by nodegroup add for the new group and deleted with its group by
// nodegroup delete. No workflow, step or model changes. The synthetic kinds are SSM parameters under a path of their own: one
// records the cluster's security group (so it depends on it), the other records the first.
import { DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../../src/aws/clients';
import { buildClusterSpec, buildGroupSpec } from '../../../src/config/cluster';
import { RunFailedError } from '../../../src/orchestration/deps';
import { journaledWrite } from '../../../src/orchestration/engine';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterList } from '../../../src/orchestration/workflows/clusterList';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { nodegroupDelete } from '../../../src/orchestration/workflows/nodegroupDelete';
import { requiredActions } from '../../../src/orchestration/steps/requiredActions';
import type { Provider } from '../../../src/provider/provider';
import { taskRef } from '../../../src/provider/taskRef';
import type { Task, TaskRef } from '../../../src/provider/types';
import { clusterSecurityGroupRef } from '../../../src/resources/securityGroup';
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

async function valueOf(clients: AwsClients, name: string): Promise<string | undefined> {
  try {
    return (await clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch {
    return undefined;
  }
}

interface Marker {
  name: string;
  value: string;
}

const extraRef = taskRef<Marker>('test/extra');
const watcherRef = taskRef<Marker>('test/watcher');

/**
 * A kind of SSM parameters under its own path, found by the cluster's name: a cluster has one, whose
 * value is the `id` of the task it refers to (`source`).
 */
function parameterKind(type: string, dependsOn: string[], ref: TaskRef<Marker>, source: { ref: TaskRef<unknown>; id: (out: never) => string }): Provider {
  return {
    type,
    dependsOn,
    iamActions: { read: ['ssm:GetParameter', 'ssm:GetParametersByPath'], write: ['ssm:PutParameter', 'ssm:DeleteParameter'], delete: ['ssm:DeleteParameter'] },
    clusterTasks(view) {
      const name = `${pathOf(type, view.name)}/marker`;
      const task: Task<Marker> = {
        key: ref.key,
        type,
        name,
        dependsOn: [source.ref],
        async find(ctx) {
          const value = await valueOf(ctx.clients, name);
          return value === undefined ? undefined : { name, value };
        },
        async create(ctx) {
          const value = source.id(ctx.get(source.ref) as never);
          await journaledWrite(ctx, { action: 'create', type, name, undo: { type, action: 'delete', data: { name } } }, () =>
            ctx.clients.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' })),
          );
          return { name, value };
        },
        id: (m) => m.name,
      };
      return [task];
    },
    undo: {
      async delete(clients, data) {
        await clients.ssm.send(new DeleteParameterCommand({ Name: String(data.name) })).catch(() => undefined);
      },
    },
    async discover(scope) {
      return (await parametersUnder(scope.clients, pathOf(type, scope.cluster))).map((name) => ({ name, id: name }));
    },
    deleteOwned: deleteParameters(type, `delete ${type}`),
  };
}

/** A synthetic kind's delete: one journaled DeleteParameter per thing owned, in one step. */
function deleteParameters(type: string, title: string): NonNullable<Provider['deleteOwned']> {
  return (run, owned) =>
    run.step(title, async (ctx) => {
      for (const p of owned) {
        await journaledWrite(ctx, { action: 'delete', type, name: p.name, id: p.id }, () => ctx.clients.ssm.send(new DeleteParameterCommand({ Name: p.id })));
      }
    });
}

const registry = testProviders.with(
  parameterKind(EXTRA, [SECURITY_GROUP], extraRef, { ref: clusterSecurityGroupRef, id: (sg: { groupId: string }) => sg.groupId }),
  parameterKind(WATCHER, [EXTRA], watcherRef, { ref: extraRef, id: (m: Marker) => m.name }),
);

const PER_GROUP = 'Test::SSM::GroupExtra';
const groupPath = (cluster: string) => `/k3sctl-test/groups/${cluster}`;

/** A kind a cluster has one of per group: a parameter under its own path, named by the group. */
const perGroupKind: Provider = {
  type: PER_GROUP,
  dependsOn: [],
  iamActions: { read: ['ssm:GetParameter', 'ssm:GetParametersByPath'], write: ['ssm:PutParameter', 'ssm:DeleteParameter'], delete: ['ssm:DeleteParameter'] },
  clusterTasks: (view) =>
    view.groups.map((g): Task<Marker> => {
      const name = `${groupPath(view.name)}/${g.name}`;
      return {
        key: `test/group/${g.name}`,
        type: PER_GROUP,
        name,
        async find(ctx) {
          const value = await valueOf(ctx.clients, name);
          return value === undefined ? undefined : { name, value };
        },
        async create(ctx) {
          await journaledWrite(ctx, { action: 'create', type: PER_GROUP, name, undo: { type: PER_GROUP, action: 'delete', data: { name } } }, () =>
            ctx.clients.ssm.send(new PutParameterCommand({ Name: name, Value: g.role, Type: 'String' })),
          );
          return { name, value: g.role };
        },
        id: (m) => m.name,
      };
    }),
  undo: {
    async delete(clients, data) {
      await clients.ssm.send(new DeleteParameterCommand({ Name: String(data.name) })).catch(() => undefined);
    },
  },
  async discover(scope) {
    return (await parametersUnder(scope.clients, groupPath(scope.cluster))).map((name) => ({ name, id: name }));
  },
  deleteOwned: deleteParameters(PER_GROUP, `delete ${PER_GROUP}`),
  perGroup: {
    async discover(scope, group) {
      const name = `${groupPath(scope.cluster)}/${group}`;
      return (await valueOf(scope.clients, name)) === undefined ? [] : [{ name, id: name }];
    },
    deleteOwned: deleteParameters(PER_GROUP, `delete ${PER_GROUP} of the group`),
  },
};

describe('a kind a cluster has per group, added to the registry', () => {
  it('is created for every group, by nodegroup add for the new one, and deleted with its group by nodegroup delete', async () => {
    const sb = new Sandbox();
    const withKind = testProviders.with(perGroupKind);
    const deps = () => sandboxDeps(sb, { providers: withKind }).deps;
    await clusterCreate(deps(), buildClusterSpec({ name: 'pergroup', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
    expect((await parametersUnder(deps().clients, groupPath('pergroup'))).sort()).toEqual([`${groupPath('pergroup')}/control-plane`, `${groupPath('pergroup')}/nodes`]);

    const added = await groupAdd(deps(), 'pergroup', buildGroupSpec({ name: 'extra', role: 'node', count: 1 }), { wait: false });
    expect(added.changes.filter((c) => c.type === PER_GROUP).map((c) => `${c.action} ${c.name}`)).toEqual([`create ${groupPath('pergroup')}/extra`]);

    const dry = await nodegroupDelete(deps(), 'pergroup', 'extra', { dryRun: true });
    expect(dry.planned.map((c) => `${c.action} ${c.type}`)).toEqual(expect.arrayContaining([`delete ${PER_GROUP}`, 'delete AWS::AutoScaling::AutoScalingGroup']));
    await nodegroupDelete(deps(), 'pergroup', 'extra');
    expect((await parametersUnder(deps().clients, groupPath('pergroup'))).sort()).toEqual([`${groupPath('pergroup')}/control-plane`, `${groupPath('pergroup')}/nodes`]);
    expect(requiredActions(withKind)['nodegroup delete']).toContain('ssm:DeleteParameter');

    await clusterDelete(deps(), 'pergroup');
    expect(await parametersUnder(deps().clients, groupPath('pergroup'))).toEqual([]);
  });
});

async function withCluster(name: string) {
  const sb = new Sandbox();
  const { home } = sandboxDeps(sb);
  const next = () => sandboxDeps(sb, { home, providers: registry }).deps;
  await clusterCreate(next(), buildClusterSpec({ name, region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
  return { sb, next };
}

describe('cluster create with a kind added to the registry', () => {
  it('plans it, creates it after the kinds it refers to, and a re-run finds it unchanged', async () => {
    const sb = new Sandbox();
    const deps = () => sandboxDeps(sb, { providers: registry }).deps;
    const spec = buildClusterSpec({ name: 'addkind', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    const dry = await clusterCreate(deps(), spec, { dryRun: true });
    expect(dry.planned.filter((c) => c.type === EXTRA || c.type === WATCHER).map((c) => `${c.action} ${c.type} ${c.name}`)).toEqual([
      `create ${EXTRA} ${pathOf(EXTRA, 'addkind')}/marker`,
      `create ${WATCHER} ${pathOf(WATCHER, 'addkind')}/marker`,
    ]);

    const created = await clusterCreate(deps(), spec);
    const order = created.changes.map((c) => c.type);
    expect(order.indexOf(SECURITY_GROUP)).toBeLessThan(order.indexOf(EXTRA));
    expect(order.indexOf(EXTRA)).toBeLessThan(order.indexOf(WATCHER));
    const sg = created.changes.find((c) => c.type === SECURITY_GROUP)!;
    // Each read the output of the task it refers to.
    expect(await valueOf(deps().clients, `${pathOf(EXTRA, 'addkind')}/marker`)).toBe(sg.id);
    expect(await valueOf(deps().clients, `${pathOf(WATCHER, 'addkind')}/marker`)).toBe(`${pathOf(EXTRA, 'addkind')}/marker`);

    const again = await clusterCreate(deps(), spec);
    expect(again.changes.filter((c) => c.type === EXTRA || c.type === WATCHER).map((c) => c.action)).toEqual(['noop', 'noop']);
  });

  it('rolls it back through its provider when a later step fails', async () => {
    const sb = new Sandbox();
    const deps = () => sandboxDeps(sb, { providers: registry }).deps;
    sb.faults.add({ op: 'CreateAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const failed = await clusterCreate(deps(), buildClusterSpec({ name: 'undokind', region: 'us-east-1', controlPlanes: 1, nodes: 1 })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    const rolledBack = (failed as RunFailedError).rolledBack.map((r) => r.type);
    expect(rolledBack).toEqual(expect.arrayContaining([EXTRA, WATCHER]));
    expect((failed as RunFailedError).leftovers).toEqual([]);
    for (const kind of [EXTRA, WATCHER]) expect(await parametersUnder(deps().clients, pathOf(kind, 'undokind'))).toEqual([]);
  });
});

describe('the permissions of a kind added to the registry', () => {
  it('are checked for cluster create, the group commands and cluster delete', () => {
    const before = requiredActions(testProviders);
    const after = requiredActions(registry);
    for (const command of ['cluster create', 'nodegroup add', 'controlplane add', 'cluster delete']) {
      expect(before[command]).not.toContain('ssm:DeleteParameter');
      expect(after[command]).toContain('ssm:DeleteParameter');
    }
    expect(after['nodegroup scale']).not.toContain('ssm:DeleteParameter');
  });
});

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
