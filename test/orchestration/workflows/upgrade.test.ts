import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand, GetParameterCommand } from '@aws-sdk/client-ssm';
import { UserError } from '../../../src/core/errors';
import { names } from '../../../src/config/names';
import { RunFailedError, type WorkflowDeps } from '../../../src/orchestration/deps';
import {
  bootstrapConfigFromUserData,
  parseConfigEnv,
  upgrade,
  versionSkewProblem,
} from '../../../src/orchestration/workflows/upgrade';
import { planGroup } from '../../../src/orchestration/steps/recyclePlan';
import { describeClusterGroups } from '../../../src/resources/autoScalingInstance';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { renderConfigEnv, renderUserData } from '../../../src/userdata/render';
import { createAsgFixture, fixtureUserData, waitSettled, type AsgFixture } from '../../helpers/asgFixture';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

jest.setTimeout(120_000);
afterAll(removeTestHomes);

const base = { cluster: 'demo', strategy: 'rolling' as const, nodeReadiness: false as const };

async function setup(): Promise<{
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
  return { deps, sb, home, cp, nodes };
}

async function k3sVersionOf(deps: WorkflowDeps, f: AsgFixture): Promise<string> {
  const v = await deps.clients.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: f.launchTemplateId,
      Versions: ['$Default'],
    }),
  );
  return bootstrapConfigFromUserData(v.LaunchTemplateVersions![0].LaunchTemplateData!.UserData!, 'test')
    .k3sVersion;
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

describe('upgrade: reading user data back', () => {
  it('recovers the exact bootstrap configuration, so re-rendering changes only the version', () => {
    const config = {
      cluster: 'demo',
      role: 'node' as const,
      group: 'gpu',
      region: 'eu-west-1',
      k3sVersion: 'v1.31.6+k3s1',
      k3sArgs: ['--kubelet-arg=max-pods=110', "--node-name-suffix='x y'"],
      labels: { 'k3sctl.io/group': 'gpu', tier: 'batch' },
      taints: ['dedicated=gpu:NoSchedule'],
      tlsSans: [],
      serverTokenParameter: names.ssmServerToken('demo'),
      agentTokenParameter: names.ssmAgentToken('demo'),
      initializedParameter: names.ssmInitialized('demo'),
      bootstrapFailurePrefix: names.ssmBootstrapFailures('demo'),
      lifecycleHookName: names.lifecycleHook(),
    };
    const parsed = bootstrapConfigFromUserData(renderUserData(config).base64, 'test');
    expect(renderConfigEnv(parsed)).toBe(renderConfigEnv(config));
    expect(renderUserData({ ...parsed, k3sVersion: 'v1.32.1+k3s1' }).base64).toBe(
      renderUserData({ ...config, k3sVersion: 'v1.32.1+k3s1' }).base64,
    );
    expect(parseConfigEnv("A='it'\\''s'\nB=('x' 'y z')\n")).toEqual({ A: "it's", B: ['x', 'y z'] });
  });
});

describe('upgrade (sandbox)', () => {
  it('creates new launch template versions and recycles control planes first', async () => {
    const s = await setup();
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
            {
              name: 'control-plane',
              role: 'control-plane',
              count: 3,
              instanceType: 't3.small',
              subnetIds: [],
              imageId: 'ami-1',
              rootDeviceName: '/dev/xvda',
              k3sVersion: 'v1.31.6+k3s1',
              k3sArgs: [],
              labels: {},
              taints: [],
              spot: false,
              rootVolumeSize: 20,
              rootVolumeType: 'gp3',
            },
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
