import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand, GetParameterCommand } from '@aws-sdk/client-ssm';
import { UserError } from '../../../src/core/errors';
import { buildClusterSpec } from '../../../src/config/cluster';
import { names } from '../../../src/aws/names';
import { readClusterConfig } from '../../../src/model/read';
import { RunFailedError, type WorkflowDeps } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { upgrade, versionSkewProblem } from '../../../src/orchestration/workflows/upgrade';
import { planGroup } from '../../../src/orchestration/steps/recyclePlan';
import { describeClusterGroups } from '../../../src/resources/autoScalingInstance';
import { readLaunchTemplateVersion } from '../../../src/resources/launchTemplateVersion';
import { listParametersByPath, SSM_PARAMETER_TYPE } from '../../../src/resources/ssmParameter';
import { Sandbox } from '../../../src/sandbox/sandbox';
import {
  createAsgFixture,
  fixtureK3sVersion,
  fixtureUserData,
  storeFixtureModel,
  waitSettled,
  type AsgFixture,
} from '../../helpers/asgFixture';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { storedGroup as declaredGroup } from '../../helpers/storedModel';

jest.setTimeout(120_000);
afterAll(removeTestHomes);

const base = { cluster: 'demo', strategy: 'rolling' as const, nodeReadiness: false as const };

/** Two settled groups and, unless `model` is false, the cluster's stored model declaring them at v1.31.6. */
async function setup(model = true): Promise<{
  deps: WorkflowDeps;
  sb: Sandbox;
  home: string;
  cp: AsgFixture;
  nodes: AsgFixture;
}> {
  const sb = new Sandbox();
  const { deps, home } = sandboxDeps(sb);
  const cp = await createAsgFixture(deps.clients, { role: 'control-plane', size: 3 });
  const nodes = await createAsgFixture(deps.clients, { role: 'node', size: 2, versionRef: '$Latest' });
  await waitSettled(deps.clients, deps.clock, cp.autoScalingGroupName);
  await waitSettled(deps.clients, deps.clock, nodes.autoScalingGroupName);
  if (model) await storeFixtureModel(deps.clients, [cp, nodes]);
  return { deps, sb, home, cp, nodes };
}

async function k3sVersionOf(deps: WorkflowDeps, f: AsgFixture): Promise<string> {
  const v = await deps.clients.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: f.launchTemplateId,
      Versions: ['$Default'],
    }),
  );
  return fixtureK3sVersion(v.LaunchTemplateVersions![0].LaunchTemplateData!.UserData!);
}

describe('upgrade: version skew', () => {
  it('allows patch and next-minor upgrades, refuses downgrades across minors and skipped minors', () => {
    expect(versionSkewProblem('v1.31.6+k3s1', 'v1.31.7+k3s1')).toBeUndefined();
    expect(versionSkewProblem('v1.31.6+k3s1', 'v1.32.0+k3s1')).toBeUndefined();
    expect(versionSkewProblem('v1.31.6+k3s1', 'v1.31.2+k3s1')).toBeUndefined();
    expect(versionSkewProblem('v1.31.6+k3s1', 'v1.30.9+k3s1')).toMatch(/downgrade/);
    expect(versionSkewProblem('v1.31.6+k3s1', 'v1.33.0+k3s1')).toMatch(/skips 1 minor/);
    expect(versionSkewProblem('v1.31.6+k3s1', 'v2.0.0+k3s1')).toMatch(/major/);
  });
});

/** The user data each group of `cluster` boots (the launch template version its Auto Scaling group uses), by group. */
async function bootedUserData(deps: WorkflowDeps, cluster: string): Promise<Record<string, string>> {
  const groups = await describeClusterGroups(deps.clients, cluster);
  const entries = await Promise.all(
    groups.map(async (g) => [g.group, (await readLaunchTemplateVersion(deps.clients, g.launchTemplateId!, g.currentVersion!)).userDataBase64] as const),
  );
  return Object.fromEntries(entries);
}

/** Every parameter of the cluster's stored model (settings and groups), by name. */
async function storedModel(deps: WorkflowDeps, cluster: string): Promise<Record<string, string>> {
  const params = await listParametersByPath(deps.clients, names.ssmPrefix(cluster));
  return Object.fromEntries(params.filter((p) => /\/(config|groups\/[^/]+)$/.test(p.Name!)).map((p) => [p.Name!, p.Value!]));
}

describe('upgrade edits the stored model and renders from it', () => {
  const V131 = 'v1.31.6+k3s1';
  const V132 = 'v1.32.2+k3s1';
  const spec = (k3sVersion: string) => buildClusterSpec({ name: 'demo', region: 'us-east-1', controlPlanes: 1, nodes: 1, k3sVersion });

  it('after the model says v1.31, renders v1.32 user data identical to a fresh create at v1.32; the model says v1.32 afterwards', async () => {
    const sb = new Sandbox();
    const { home } = sandboxDeps(sb);
    const next = () => sandboxDeps(sb, { home }).deps;
    await clusterCreate(next(), spec(V131), { wait: false });
    const before = await bootedUserData(next(), 'demo');
    expect((await readClusterConfig(next().clients, 'demo'))!.groups.map((g) => [g.name, g.k3sVersion])).toEqual([
      ['control-plane', V131],
      ['nodes', V131],
    ]);

    const result = await upgrade(next(), { ...base, k3sVersion: V132 });
    expect(result.launchTemplateVersions.map((v) => [v.group, v.fromK3sVersion, v.toK3sVersion])).toEqual(
      expect.arrayContaining([
        ['control-plane', V131, V132],
        ['nodes', V131, V132],
      ]),
    );

    const fresh = sandboxDeps(new Sandbox()).deps;
    await clusterCreate(fresh, spec(V132), { wait: false });
    const upgraded = await bootedUserData(next(), 'demo');
    expect(upgraded).toEqual(await bootedUserData(fresh, 'demo'));
    expect(upgraded['nodes']).not.toBe(before['nodes']);
    expect(fixtureK3sVersion(upgraded['control-plane'])).toBe(V132);

    const model = (await readClusterConfig(next().clients, 'demo'))!;
    expect([model.k3sVersion, ...model.groups.map((g) => g.k3sVersion)]).toEqual([V132, V132, V132]);
    // The model and the launch templates agree: cluster create at v1.32 has nothing to change.
    const planned = (await clusterCreate(next(), spec(V132), { dryRun: true })).planned;
    expect(planned.filter((c) => c.action !== 'noop')).toEqual([]);
  });

  it('a failed upgrade leaves the stored model as it was', async () => {
    const s = await setup();
    const before = await storedModel(s.deps, 'demo');
    expect(Object.keys(before)).toHaveLength(3);
    s.sb.faults.add({ op: 'TerminateInstanceInAutoScalingGroup', code: 'ValidationError', nth: 2, message: 'injected' });
    const error = await upgrade(s.deps, { ...base, k3sVersion: V132 }).catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    // The model had been written (the recycle fails after it), and rollback put every parameter back.
    expect((error as RunFailedError).rolledBack).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: SSM_PARAMETER_TYPE, name: names.ssmGroupConfig('demo', 'workers') })]),
    );
    expect(await storedModel(s.deps, 'demo')).toEqual(before);
    expect((await readClusterConfig(s.deps.clients, 'demo'))!.groups.map((g) => g.k3sVersion)).toEqual([V131, V131]);
  });

  it('refuses a cluster without a stored model, or with a group the model does not declare, before any write', async () => {
    const s = await setup(false);
    const first = sandboxDeps(s.sb, { home: s.home }).deps;
    const none = await upgrade(first, { ...base, k3sVersion: V132 }).catch((e) => e);
    expect(none).toBeInstanceOf(UserError);
    expect(none.message).toMatch(/^cluster demo has no stored configuration \(\/k3sctl\/clusters\/demo\/config\)/);
    expect(none.suggestion).toMatch(/k3sctl cluster create demo/);
    expect(first.clients.calls.write).toBe(0);

    await storeFixtureModel(s.deps.clients, [s.cp]);
    const { deps } = sandboxDeps(s.sb, { home: s.home });
    const partial = await upgrade(deps, { ...base, k3sVersion: V132 }).catch((e) => e);
    expect(partial).toBeInstanceOf(UserError);
    expect(partial.message).toMatch(/group\(s\) workers of cluster demo are not in its stored configuration/);
    expect(partial.suggestion).toMatch(/k3sctl nodegroup add demo workers/);
    expect(deps.clients.calls.write).toBe(0);
    // --group picks the groups the model does declare.
    const cpOnly = await upgrade(sandboxDeps(s.sb, { home: s.home }).deps, { ...base, groups: ['control-plane'], k3sVersion: V132 });
    expect(cpOnly.launchTemplateVersions.map((v) => v.group)).toEqual(['control-plane']);
    const model = (await readClusterConfig(s.deps.clients, 'demo'))!;
    // Not every group: the cluster's own version (what groups added later start from) stays.
    expect([model.k3sVersion, ...model.groups.map((g) => g.k3sVersion)]).toEqual([V131, V132]);
  });
});

describe('upgrade (sandbox)', () => {
  it('creates new launch template versions and recycles control planes first', async () => {
    const s = await setup(false);
    await s.deps.clients.ssm.send(
      new PutParameterCommand({
        Name: names.ssmConfig('demo'),
        Type: 'String',
        Value: JSON.stringify({
          version: 1,
          name: 'demo',
          region: 'us-east-1',
          vpcId: 'vpc-1',
          subnetIds: [],
          k3sVersion: 'v1.31.6+k3s1',
          sshCidrs: [],
          apiCidrs: [],
          tlsSans: [],
          groups: [
            declaredGroup('control-plane', { count: 3, instanceType: 't3.small' }),
            declaredGroup('workers', { count: 2, instanceType: 't3.small' }),
          ],
        }),
      }),
    );
    const result = await upgrade(s.deps, { ...base, k3sVersion: 'v1.32.2+k3s1' });
    expect(
      result.launchTemplateVersions.map((v) => [
        v.group,
        v.fromK3sVersion,
        v.fromLaunchTemplateVersion,
        v.toLaunchTemplateVersion,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['control-plane', 'v1.31.6+k3s1', 1, 2],
        ['workers', 'v1.31.6+k3s1', 1, 2],
      ]),
    );
    expect(await k3sVersionOf(s.deps, s.cp)).toBe('v1.32.2+k3s1');
    expect(await k3sVersionOf(s.deps, s.nodes)).toBe('v1.32.2+k3s1');
    expect(result.replacements.slice(0, 3).every((r) => r.group === 'control-plane')).toBe(true);
    expect(result.replacements).toHaveLength(5);
    const groups = await describeClusterGroups(s.deps.clients, 'demo');
    expect(groups.every((g) => planGroup(g, { strategy: 'serial' }).outdated.length === 0)).toBe(true);
    const stored = JSON.parse(
      (await s.deps.clients.ssm.send(new GetParameterCommand({ Name: names.ssmConfig('demo') }))).Parameter!
        .Value!,
    );
    expect(stored.k3sVersion).toBe('v1.32.2+k3s1');
    // The fixture stored the old single-parameter layout; the upgrade moved each group to its own parameter.
    const storedGroup = JSON.parse(
      (await s.deps.clients.ssm.send(new GetParameterCommand({ Name: names.ssmGroupConfig('demo', 'control-plane') })))
        .Parameter!.Value!,
    );
    expect(storedGroup.k3sVersion).toBe('v1.32.2+k3s1');

    // Idempotent: the same upgrade again writes nothing.
    const again = await upgrade(sandboxDeps(s.sb, { home: s.home }).deps, {
      ...base,
      k3sVersion: 'v1.32.2+k3s1',
    });
    expect(again.apiCalls.write).toBe(0);
    expect(again.replacements).toEqual([]);
  });

  it('refuses a skipped minor version or a downgrade without --force, before any write', async () => {
    const s = await setup();
    for (const v of ['v1.33.0+k3s1', 'v1.30.1+k3s1']) {
      const { deps } = sandboxDeps(s.sb, { home: s.home });
      const error = await upgrade(deps, { ...base, k3sVersion: v }).catch((e) => e);
      expect(error).toBeInstanceOf(UserError);
      expect(deps.clients.calls.write).toBe(0);
    }
    await expect(
      Promise.resolve().then(() => upgrade(s.deps, { ...base, k3sVersion: 'not-a-version' })),
    ).rejects.toThrow(UserError);
  });

  it('--force allows skipping a minor version; --dry-run shows the plan without writing', async () => {
    const s = await setup();
    const dry = sandboxDeps(s.sb, { home: s.home }).deps;
    const plan = await upgrade(dry, { ...base, k3sVersion: 'v1.33.0+k3s1', force: true, dryRun: true });
    expect(dry.clients.calls.write).toBe(0);
    expect(plan.groups.map((g) => [g.role, g.outdated.length])).toEqual([
      ['control-plane', 3],
      ['node', 2],
    ]);
    const result = await upgrade(s.deps, { ...base, k3sVersion: 'v1.33.0+k3s1', force: true });
    expect(result.replacements).toHaveLength(5);
  });

  it('points a group pinned to a version number at the new version, and back on rollback', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const pinned = await createAsgFixture(deps.clients, { size: 2, versionRef: '1' });
    await waitSettled(deps.clients, deps.clock, pinned.autoScalingGroupName);
    await storeFixtureModel(deps.clients, [pinned]);
    const result = await upgrade(deps, { ...base, k3sVersion: 'v1.31.7+k3s1' });
    expect(result.replacements).toHaveLength(2);
    const [g] = await describeClusterGroups(deps.clients, 'demo');
    expect(g.launchTemplateVersionSpec).toBe('2');
    expect(g.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.version)).toEqual([
      '2',
      '2',
    ]);

    sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'ValidationError',
      nth: 1,
      message: 'injected',
    });
    const error = await upgrade(sandboxDeps(sb, { home }).deps, {
      ...base,
      k3sVersion: 'v1.32.0+k3s1',
    }).catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const [after] = await describeClusterGroups(deps.clients, 'demo');
    expect(after.launchTemplateVersionSpec).toBe('2');
  });

  it('a failed recycle rolls the launch template default back', async () => {
    const s = await setup();
    s.sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'ValidationError',
      nth: 2,
      message: 'injected',
    });
    const error = await upgrade(s.deps, { ...base, k3sVersion: 'v1.32.2+k3s1' }).catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect(await k3sVersionOf(s.deps, s.cp)).toBe('v1.31.6+k3s1');
    expect(await k3sVersionOf(s.deps, s.nodes)).toBe('v1.31.6+k3s1');
    expect(fixtureUserData('demo', 'workers', 'node', 'v1.31.6+k3s1')).toBeTruthy();
  });
});
