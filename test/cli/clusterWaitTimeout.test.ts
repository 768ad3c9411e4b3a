// CLI end to end (in process through oclif, test/helpers/inProcessCli.ts; sandbox): `cluster create
// --wait-timeout` (and K3SCTL_WAIT_TIMEOUT) sets the readiness window; a bad value is exit 2 naming
// the flag, before anything is written; a window that closes before every instance is a Ready node
// is exit 4 with a JSON error document that names the instances and their last answers, the run and
// its changes, and the resources are kept.
import { exitCodeFor } from '../../src/cli/errors';
import { ClusterNotReadyError, ExitCode } from '../../src/core/errors';
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const home = tempHomes();

const SMALL = ['--control-planes', '1', '--nodes', '1'];

describe('cluster create --wait-timeout (CLI, sandbox)', () => {
  it.each([
    [['--wait-timeout', 'soon'], {}, '--wait-timeout', /^--wait-timeout 'soon' is not a duration/],
    [['--wait-timeout', '5 minutes'], {}, '--wait-timeout', /is not a duration/],
    [['--wait-timeout', '0'], {}, '--wait-timeout', /^--wait-timeout '0' is shorter than a second/],
    // From the environment, the variable the user set is what the message names.
    [[], { K3SCTL_WAIT_TIMEOUT: '-1m' }, 'K3SCTL_WAIT_TIMEOUT', /^K3SCTL_WAIT_TIMEOUT '-1m' is not a duration/],
  ])('%j %j is invalid input: exit 2 naming %s, nothing written', async (args, env, field, message) => {
    const h = home();
    const r = await runCliInProcess(['cluster', 'create', 'bad', '--sandbox', '--json', ...SMALL, ...args], { home: h, env });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ type: 'UserError', field });
    expect(doc.error.message).toMatch(message);
    const status = JSON.parse((await runCliInProcess(['sandbox', 'status', '--json'], { home: h })).stdout);
    expect(status.calls.write).toBe(0);
  });

  it('a window that closes first is exit 4: the JSON names each instance and its last answer, the run and its changes; nothing is rolled back', async () => {
    const h = home();
    const r = await runCliInProcess(['cluster', 'create', 'late', '--sandbox', '--json', ...SMALL, '--wait-timeout', '90s'], {
      home: h,
      // moto's Run Command: every command succeeds with empty output.
      env: { K3SCTL_SANDBOX_BEHAVIOR: '{"ssmNoOutput":["*"]}' },
    });
    expect(r.code).toBe(4);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({
      type: 'ClusterNotReadyError',
      cluster: 'late',
      waitTimeoutMs: 90_000,
      run: expect.any(String),
      apiCalls: { read: expect.any(Number), write: expect.any(Number) },
    });
    expect(error.notReady).toEqual([
      { instanceId: expect.stringMatching(/^i-[0-9a-f]{17}$/), group: expect.stringMatching(/^k3sctl-late-/), lastAnswer: 'no answer (SSM command output empty)' },
      { instanceId: expect.stringMatching(/^i-[0-9a-f]{17}$/), group: expect.stringMatching(/^k3sctl-late-/), lastAnswer: 'no answer (SSM command output empty)' },
    ]);
    expect(error.changes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'create', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-late-nodes' })]));
    expect(error.rolledBack).toBeUndefined();
    expect(r.stderr).toMatch(/Error: cluster late did not become ready within 1m30s: 2 instance\(s\) not Ready \(i-\w+, i-\w+: no answer \(SSM command output empty\)\)/);
    expect(r.stderr).not.toMatch(/unexpected end of file|Rolled back/);
    // The resources are kept, the run is recorded as succeeded, and a re-run converges without a write.
    const status = JSON.parse((await runCliInProcess(['sandbox', 'status', '--json'], { home: h })).stdout);
    expect(status.resources).toMatchObject({ 'AWS::AutoScaling::AutoScalingGroup': 2, 'AWS::EC2::LaunchTemplate': 2 });
    const runs = JSON.parse((await runCliInProcess(['runs', 'list', '--json'], { home: h })).stdout);
    expect(runs.runs.find((run: { runId: string }) => run.runId === error.run)).toMatchObject({ status: 'succeeded' });
    const again = await runCliInProcess(['cluster', 'create', 'late', '--sandbox', '--json', ...SMALL], { home: h });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).apiCalls.write).toBe(0);
  }, 120_000);

  it('maps ClusterNotReadyError to exit 4, also after an interrupt (the run is over)', () => {
    const error = new ClusterNotReadyError('x', [{ instanceId: 'i-0abc', group: 'g', lastAnswer: 'NotReady' }], 60_000, 'r', []);
    expect(ExitCode.notReady).toBe(4);
    expect(exitCodeFor(error)).toBe(4);
    expect(exitCodeFor(error, true)).toBe(4);
  });

  it('the message groups instances by their last answer', () => {
    const error = new ClusterNotReadyError(
      'x',
      [
        { instanceId: 'i-0abc', group: 'k3sctl-x-control-plane', lastAnswer: 'no answer (SSM command output empty)' },
        { instanceId: 'i-0def', group: 'k3sctl-x-nodes', lastAnswer: 'NotReady' },
        { instanceId: 'i-0123', group: 'k3sctl-x-nodes', lastAnswer: 'no answer (SSM command output empty)' },
      ],
      15 * 60_000,
      '20260101T000000-abcdef',
      [],
    );
    expect(error.message).toBe(
      'cluster x did not become ready within 15m: 3 instance(s) not Ready (i-0abc, i-0123: no answer (SSM command output empty); i-0def: NotReady); ' +
        'its AWS resources were created and kept (run 20260101T000000-abcdef)',
    );
  });
});
