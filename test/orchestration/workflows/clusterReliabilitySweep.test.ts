// Reliability sweep of `cluster create` (docs/ARCHITECTURE.md, Tests): a clean create counts its writes W, then
// for every k in 1..W a fresh account (the same starting state) fails the k-th write with a
// non-retryable error; the run must fail, roll back cleanly (no leftovers, exit 1) and leave the
// account exactly as it was (full inventory, once terminated instances have aged out).
import { isReadOperation } from '../../../src/aws/apiCalls';
import { Sandbox, type SandboxState } from '../../../src/sandbox/sandbox';
import { buildClusterSpec } from '../../../src/config/cluster';
import { ExitCode } from '../../../src/core/errors';
import { exitCodeFor } from '../../../src/cli/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate } from './endpointFixture';

afterAll(() => removeTestHomes());

// EC2 keeps terminated instances visible for an hour; past that the account is comparable item by item.
const AGE_OUT_MS = 2 * 3_600_000;

const spec = buildClusterSpec({
  name: 'sweep',
  region: 'us-east-1',
  controlPlanes: 1,
  nodes: 1,
  ingress: { alb: 'shared', zone: 'example.com' },
});

describe('cluster create: a failure at every write rolls back to the exact starting account', () => {
  let start: SandboxState;
  let writes: string[] = [];

  beforeAll(async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    start = structuredClone(sb.state);
    // The clean run: count (and name) its writes.
    const clean = new Sandbox({ state: structuredClone(start) });
    const { deps } = sandboxDeps(clean);
    const names: string[] = [];
    const before = { ...clean.state.calls.byOperation };
    const created = await clusterCreate(deps, spec);
    expect(created.waited).toBe(true);
    expect(clean.state.calls.write - start.calls.write).toBe(created.apiCalls.write);
    for (const [op, n] of Object.entries(clean.state.calls.byOperation)) {
      const made = n - (before[op] ?? 0);
      if (!isReadOperation(op)) for (let i = 0; i < made; i++) names.push(op);
    }
    writes = names;
  }, 60_000);

  it('makes a bounded number of writes on a clean create', () => {
    // 2 roles (+ inline and managed policy), 2 profiles (+ role), security group (+ rules), 3 parameters,
    // target group, listener rule, 2 launch templates, 2 Auto Scaling groups.
    expect(writes.length).toBeGreaterThanOrEqual(15);
    expect(writes.length).toBeLessThan(40);
    expect(writes).toEqual(
      expect.arrayContaining([
        'CreateRole',
        'CreateInstanceProfile',
        'CreateSecurityGroup',
        'PutParameter',
        'CreateTargetGroup',
        'CreateRule',
        'CreateLaunchTemplate',
        'CreateAutoScalingGroup',
      ]),
    );
  });

  it('rolls back at each write in turn', async () => {
    expect(writes.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const undoneTypes = new Set<string>();
    // The last writes are the node readiness probes (SSM SendCommand, after every resource exists): a
    // failed probe is asked again, not a failure of the run (see the next test).
    const changing = writes.filter((op) => op !== 'SendCommand').length;
    for (let k = 1; k <= changing; k++) {
      const sb = new Sandbox({ state: structuredClone(start) });
      const before = sb.inventory({ includeDefaults: false });
      const writesBefore = sb.state.calls.write;
      sb.faults.add({ op: 'write', nth: k, code: 'ValidationError', message: `sweep: write #${k} refused` });
      const { deps } = sandboxDeps(sb);
      const error = await clusterCreate(deps, spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      const where = `write #${k} of ${changing}`;
      if (!(error instanceof RunFailedError)) {
        failures.push(
          `${where}: expected RunFailedError, got ${error === undefined ? 'success' : String(error)}`,
        );
        continue;
      }
      // The injected fault is what failed the run (not something else on the way).
      if (!/sweep: write #\d+ refused/.test(error.message))
        failures.push(`${where}: failed with ${error.message}`);
      for (const r of error.rolledBack) undoneTypes.add(r.type);
      if (error.leftovers.length) failures.push(`${where}: leftovers ${JSON.stringify(error.leftovers)}`);
      if (exitCodeFor(error) !== ExitCode.failedRolledBack)
        failures.push(`${where}: exit ${exitCodeFor(error)}`);
      if (sb.state.calls.write - writesBefore < k)
        failures.push(`${where}: the run made fewer than ${k} writes`);
      sb.advance(AGE_OUT_MS);
      const after = sb.inventory({ includeDefaults: false });
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        const extra = after.filter((a) => !before.some((b) => JSON.stringify(a) === JSON.stringify(b)));
        const missing = before.filter((b) => !after.some((a) => JSON.stringify(a) === JSON.stringify(b)));
        failures.push(
          `${where}: inventory differs: extra ${JSON.stringify(extra)} missing ${JSON.stringify(missing)}`,
        );
      }
    }
    expect(failures).toEqual([]);
    // Every kind the create makes was undone at some point of the sweep.
    expect([...undoneTypes].sort()).toEqual([
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::EC2::LaunchTemplate',
      'AWS::EC2::SecurityGroup',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::IAM::InstanceProfile',
      'AWS::IAM::Role',
      'AWS::SSM::Parameter',
    ]);
  }, 120_000);

  it('a failed node readiness probe (SendCommand) is asked again: the run succeeds', async () => {
    const probes = writes.filter((op) => op === 'SendCommand').length;
    expect(probes).toBeGreaterThan(0);
    const sb = new Sandbox({ state: structuredClone(start) });
    sb.faults.add({ op: 'SendCommand', nth: 1, code: 'ValidationError', message: 'sweep: probe refused' });
    const created = await clusterCreate(sandboxDeps(sb).deps, spec);
    expect(created.nodesReady).toBe(true);
  }, 60_000);
});
