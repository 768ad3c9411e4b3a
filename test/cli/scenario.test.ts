// The acceptance scenario, through the CLI's commands as a user or a CI script runs them: one
// K3SCTL_HOME (one simulated account, persisted between invocations), every step a separate
// `k3sctl ... --sandbox --json --yes` with CI=true and no TTY, run in process through oclif
// (test/helpers/inProcessCli.ts; the README's Quick start is spawned in test/cli/inProcess.test.ts, so
// a step's real time here is the command's, without process start-up), stdout exactly one JSON
// document, exit codes per README.md, Scripting and CI. Assertions are on what a user checks afterwards
// (describe, list, sandbox status), not on call sequences. Steps are separate tests sharing the
// account, in order, so one broken step does not hide the state of the others.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLeaving, nextPatch, Scenario, type Json, type SandboxStatus } from '../helpers/scenario';

const STEP_TIMEOUT = 180_000;
const KUBECTL = '/usr/bin/kubectl';

interface Change {
  action: string;
  type: string;
  name: string;
  id?: string;
}

const sc = new Scenario({ inProcess: true });
afterAll(() => {
  console.log(sc.report('scenario (demo)'));
  sc.dispose();
});

/** Instances of a `cluster describe` document, flattened with their group. */
function instancesOf(described: Json): (Json & { group: string })[] {
  return described.groups.flatMap((g: Json) => g.instances.map((i: Json) => ({ ...i, group: g.name })));
}

function groupNames(list: Json): string[] {
  return list.groups.map((g: { name: string }) => g.name);
}

describe('acceptance scenario: one cluster through its life (CLI, sandbox)', () => {
  let initial: SandboxStatus;
  let described: Json;

  it('1. cluster create demo (defaults: 3 control planes, 2 nodes) creates the whole cluster', async () => {
    initial = await sc.status();
    expect(initial.resources).toEqual({});
    const { json } = await sc.run(['cluster', 'create', 'demo']);
    expect(json.run).toEqual(expect.any(String));
    expect(json.apiCalls).toEqual({ read: expect.any(Number), write: expect.any(Number) });
    expect(json.apiCalls.write).toBeGreaterThan(0);
    // create waited for InService and for every instance to be a Ready Kubernetes node.
    expect(json.nodesReady).toBe(true);
    const changes = json.changes as Change[];
    expect(changes.every((c) => c.action === 'create')).toBe(true);
    const types = new Set(changes.map((c) => c.type));
    for (const t of ['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate', 'AWS::IAM::Role', 'AWS::IAM::InstanceProfile', 'AWS::EC2::SecurityGroup', 'AWS::SSM::Parameter']) {
      expect(types).toContain(t);
    }
    expect(changes.filter((c) => c.type === 'AWS::AutoScaling::AutoScalingGroup').map((c) => c.name).sort()).toEqual([
      'k3sctl-demo-control-plane',
      'k3sctl-demo-nodes',
    ]);
    expect(json.groups).toEqual([
      expect.objectContaining({ name: 'control-plane', role: 'control-plane', desired: 3 }),
      expect.objectContaining({ name: 'nodes', role: 'node', desired: 2 }),
    ]);
    const after = await sc.status();
    expect(after.calls.write).toBe(json.apiCalls.write);
    expect(after.resources['AWS::AutoScaling::AutoScalingGroup']).toBe(2);
    expect(after.resources['AWS::EC2::Instance']).toBe(5);
  }, STEP_TIMEOUT);

  it('2. the same create again changes nothing: zero writes, every change a noop', async () => {
    const before = await sc.currentStatus();
    const { json } = await sc.run(['cluster', 'create', 'demo']);
    expect(json.apiCalls.write).toBe(0);
    // Not asked again: a readiness probe (SSM SendCommand) would be a write.
    expect(json.nodesReady).toBeNull();
    expect(json.changes.length).toBeGreaterThan(0);
    expect((json.changes as Change[]).filter((c) => c.action !== 'noop')).toEqual([]);
    expect((await sc.status()).calls.write).toBe(before.calls.write);
  }, STEP_TIMEOUT);

  it('3. cluster list shows demo; describe shows the groups at their desired counts, all InService and up to date', async () => {
    const { json: list } = await sc.run(['cluster', 'list']);
    expect(list.clusters.map((c: { name: string }) => c.name)).toContain('demo');
    ({ json: described } = await sc.run(['cluster', 'describe', 'demo']));
    expect(described).toMatchObject({ name: 'demo', region: 'us-east-1', outOfDate: 0 });
    expect(described.k3sVersion).toMatch(/^v\d+\.\d+\.\d+\+k3s\d+$/);
    expect(described.groups.map((g: Json) => [g.name, g.role, g.desired, g.instances.length])).toEqual([
      ['control-plane', 'control-plane', 3, 3],
      ['nodes', 'node', 2, 2],
    ]);
    for (const i of instancesOf(described)) {
      expect(i).toMatchObject({ state: 'running', lifecycleState: 'InService', upToDate: true });
    }
  }, STEP_TIMEOUT);

  /** Runs `kubeconfig demo --via ssm --write FILE` and checks the file as a user (and kubectl) would. */
  async function kubeconfigStep(file: string): Promise<void> {
    const { json } = await sc.run(['kubeconfig', 'demo', '--via', 'ssm', '--write', file]);
    expect(json).toMatchObject({ cluster: 'demo', context: 'k3sctl-demo.us-east-1', via: 'ssm', file });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const YAML = await import('yaml');
    const kc = YAML.parse(fs.readFileSync(file, 'utf8'));
    expect(kc.contexts.map((c: { name: string }) => c.name)).toContain('k3sctl-demo.us-east-1');
    const server: string = kc.clusters[0].cluster.server;
    expect(server).toMatch(/^https:\/\/\d{1,3}(\.\d{1,3}){3}:6443$/);
    // The server is the public address of one of the cluster's control planes.
    const { json: d } = await sc.run(['cluster', 'describe', 'demo']);
    expect(d.groups[0].instances.map((i: Json) => i.publicIp)).toContain(new URL(server).hostname);
    if (fs.existsSync(KUBECTL)) {
      const view = spawnSync(KUBECTL, ['config', 'view', '--kubeconfig', file, '-o', 'json'], { encoding: 'utf8', timeout: 60_000 });
      expect(view.status).toBe(0);
      const parsed = JSON.parse(view.stdout);
      expect(parsed['current-context']).toBe('k3sctl-demo.us-east-1');
      expect(parsed.clusters[0].cluster.server).toBe(server);
    }
  }

  it('4. right after create, kubeconfig demo --via ssm --write FILE writes a 0600 kubeconfig that kubectl reads', async () => {
    // What a user types next. In virtual time the SSM agent registers 10 s and k3s is Ready 45 s after
    // boot; cluster create returned only once the nodes were Ready, so this works right away.
    await kubeconfigStep(path.join(sc.home, 'kc'));
  }, STEP_TIMEOUT);

  it('5. nodegroup add / list / scale', async () => {
    const { json: added } = await sc.run(['nodegroup', 'add', 'demo', 'workers2', '--nodes', '2', '--node-type', 't3.large', '--label', 'tier=batch']);
    expect(added).toMatchObject({ cluster: 'demo', group: 'workers2', role: 'node', desired: 2 });
    expect(added.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'create', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-demo-workers2' }),
        expect.objectContaining({ action: 'create', type: 'AWS::EC2::LaunchTemplate', name: 'k3sctl-demo-workers2' }),
      ]),
    );
    const { json: list } = await sc.run(['nodegroup', 'list', 'demo']);
    expect(list.groups).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'workers2', role: 'node', instanceType: 't3.large', desired: 2, inService: 2 })]),
    );
    const { json: scaled } = await sc.run(['nodegroup', 'scale', 'demo', 'workers2', '--nodes', '3']);
    expect(scaled.desired).toBe(3);
    const { json: d } = await sc.run(['cluster', 'describe', 'demo']);
    const g = d.groups.find((x: Json) => x.name === 'workers2');
    expect(g).toMatchObject({ desired: 3, instanceType: 't3.large' });
    expect(g.instances.filter((i: Json) => i.lifecycleState === 'InService')).toHaveLength(3);
    await sc.status();
  }, STEP_TIMEOUT);

  it('5b. a minute later (virtual time), kubeconfig over SSM works and kubectl reads the file', async () => {
    await kubeconfigStep(path.join(sc.home, 'kc2'));
  }, STEP_TIMEOUT);

  let upgradeTo: string;
  it('6. upgrade to the next patch replaces every instance; a recycle afterwards has nothing to do', async () => {
    upgradeTo = nextPatch(described.k3sVersion);
    const before = (await sc.run(['cluster', 'describe', 'demo'])).json;
    const oldIds = new Set(instancesOf(before).map((i) => i.id));
    const { json } = await sc.run(['upgrade', 'demo', '--k3s-version', upgradeTo]);
    expect(json.k3sVersion).toBe(upgradeTo);
    expect(json.replacements).toHaveLength(oldIds.size);
    expect(new Set(json.replacements.map((r: Json) => r.oldInstanceId))).toEqual(oldIds);
    // Control planes are replaced first.
    const roles = json.replacements.map((r: Json) => (r.group === 'control-plane' ? 0 : 1));
    expect(roles).toEqual([...roles].sort());
    for (const v of json.launchTemplateVersions) expect(v).toMatchObject({ toK3sVersion: upgradeTo });

    const { json: d } = await sc.run(['cluster', 'describe', 'demo']);
    expect(d.k3sVersion).toBe(upgradeTo);
    for (const g of d.groups) {
      expect(g.k3sVersion).toBe(upgradeTo);
      const live = g.instances.filter((i: Json) => !isLeaving(i));
      expect(live).toHaveLength(g.desired);
      for (const i of live) {
        expect(i).toMatchObject({ lifecycleState: 'InService', upToDate: true });
        expect(oldIds.has(i.id)).toBe(false);
      }
    }
    const { json: recycled } = await sc.run(['recycle', 'demo']);
    expect(recycled.replacements).toEqual([]);
    expect(recycled.apiCalls.write).toBe(0);
    expect((recycled.changes as Change[]).filter((c) => c.action !== 'noop')).toEqual([]);
    for (const g of recycled.groups) expect(g.outdated).toEqual([]);
    await sc.status();
  }, STEP_TIMEOUT);

  it("6b. right after the upgrade, describe's and nodegroup list's out-of-date counts agree with recycle (0)", async () => {
    // An old instance still Terminating after its replacement is leaving, not out of date:
    // `recycle` ignores it, so the counts that tell the user to run recycle must too.
    const { json: d } = await sc.run(['cluster', 'describe', 'demo']);
    expect(d.outOfDate).toBe(0);
    const { json: list } = await sc.run(['nodegroup', 'list', 'demo']);
    expect(list.groups.map((g: Json) => [g.name, g.outOfDate])).toEqual(list.groups.map((g: Json) => [g.name, 0]));
  }, STEP_TIMEOUT);

  it('7. recycle --force --strategy rolling --batch 50% --dry-run plans every replacement and writes nothing', async () => {
    const before = await sc.status();
    const { json } = await sc.run(['recycle', 'demo', '--force', '--strategy', 'rolling', '--batch', '50%', '--dry-run']);
    expect(json.dryRun).toBe(true);
    expect(json.replacements).toEqual([]);
    const { json: d } = await sc.run(['cluster', 'describe', 'demo']);
    const live = instancesOf(d).filter((i) => !isLeaving(i));
    const planned = json.groups.flatMap((g: Json) => g.batches.flatMap((b: Json) => b.terminate));
    expect(new Set(planned)).toEqual(new Set(live.map((i) => i.id)));
    // Node groups go in batches of half the group: 3 instances of workers2 -> 2 batches.
    const workers = json.groups.find((g: Json) => g.group === 'workers2');
    expect(workers.batches.map((b: Json) => b.terminate.length)).toEqual([2, 1]);
    // Control planes: always one at a time.
    const cp = json.groups.find((g: Json) => g.group === 'control-plane');
    expect(cp.batches.every((b: Json) => b.terminate.length === 1)).toBe(true);
    const after = await sc.status();
    expect(after.calls.write).toBe(before.calls.write);
    expect(after.resources).toEqual(before.resources);
  }, STEP_TIMEOUT);

  it('8. a failing nodegroup add exits 1, rolls back, and leaves the account as it was', async () => {
    const before = await sc.currentStatus();
    const listBefore = (await sc.run(['nodegroup', 'list', 'demo'])).json;
    const { json } = await sc.run(['nodegroup', 'add', 'demo', 'broken', '--nodes', '1'], 1, {
      K3SCTL_SANDBOX_FAULTS: 'CreateAutoScalingGroup=ValidationError',
    });
    expect(json.error).toMatchObject({ code: 'ValidationError', leftovers: [] });
    expect(json.error.rolledBack.length).toBeGreaterThan(0);
    expect(json.error.rolledBack).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'AWS::EC2::LaunchTemplate', name: 'k3sctl-demo-broken' })]),
    );
    const listAfter = (await sc.run(['nodegroup', 'list', 'demo'])).json;
    expect(groupNames(listAfter)).not.toContain('broken');
    expect(listAfter.groups).toEqual(listBefore.groups);
    const after = await sc.status();
    expect(after.resources).toEqual(before.resources);
  }, STEP_TIMEOUT);

  it('9. bad input exits 2 naming the field, and writes nothing', async () => {
    const before = await sc.currentStatus();
    const bad = (await sc.run(['cluster', 'create', 'Bad_Name'], 2)).json;
    expect(bad.error).toMatchObject({ type: 'UserError' });
    expect(bad.error.field).toMatch(/name/i);
    expect(bad.error.message).toContain('Bad_Name');
    const cps = (await sc.run(['cluster', 'create', 'x', '--control-planes', '2'], 2)).json;
    expect(cps.error.field).toBe('--control-planes');
    expect(cps.error.message).toMatch(/control.planes/);
    const after = await sc.status();
    expect(after.calls.write).toBe(before.calls.write);
    expect(after.resources).toEqual(before.resources);
  }, STEP_TIMEOUT);

  it('10. nodegroup delete, cluster delete: nothing is left; deleting again exits 2', async () => {
    const { json: ng } = await sc.run(['nodegroup', 'delete', 'demo', 'workers2']);
    expect(ng.changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'delete', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-demo-workers2' })]),
    );
    expect(groupNames((await sc.run(['nodegroup', 'list', 'demo'])).json)).toEqual(['control-plane', 'nodes']);
    const { json: del } = await sc.run(['cluster', 'delete', 'demo']);
    const types = new Set((del.changes as Change[]).filter((c) => c.action === 'delete').map((c) => c.type));
    for (const t of ['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate', 'AWS::IAM::Role', 'AWS::EC2::SecurityGroup', 'AWS::SSM::Parameter']) {
      expect(types).toContain(t);
    }
    const status = await sc.status();
    expect(status.resources).toEqual({});
    const again = (await sc.run(['cluster', 'delete', 'demo'], 2)).json;
    expect(again.error.message).toMatch(/does not exist/);
    expect((await sc.run(['cluster', 'list'])).json.clusters).toEqual([]);
  }, STEP_TIMEOUT);

  it('11. virtual time persists between invocations and only moves forward', async () => {
    await sc.status();
    const times = sc.virtualTimes.map((v) => Date.parse(v.time));
    expect(times.length).toBeGreaterThan(10);
    for (let i = 1; i < times.length; i++) {
      if (times[i] < times[i - 1]) throw new Error(`virtual time went back after ${sc.virtualTimes[i].after}: ${sc.virtualTimes[i - 1].time} -> ${sc.virtualTimes[i].time}`);
    }
    // The create waited for instances to boot; the upgrade replaced eight of them one by one.
    expect(times[times.length - 1] - times[0]).toBeGreaterThan(10 * 60_000);
  });
});
