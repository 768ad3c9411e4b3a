// CLI end to end: a cluster delete that fails half-way says what it removed (a delete cannot be rolled
// back) instead of "Nothing was changed.", on stderr and in the JSON error, and a re-run finishes it.
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const newHome = tempHomes();

describe('k3sctl cluster delete failing half-way (CLI, sandbox)', () => {
  it('lists what it deleted as not rolled back, then a re-run finishes the delete', async () => {
    const home = newHome();
    const created = await runCliInProcess(['cluster', 'create', 'half', '--sandbox', '--control-planes', '1', '--nodes', '1', '--no-wait', '--yes'], { home });
    expect(created.code).toBe(0);

    const failed = await runCliInProcess(['cluster', 'delete', 'half', '--sandbox', '--json', '--yes'], {
      home,
      env: { K3SCTL_SANDBOX_FAULTS: 'DeleteLaunchTemplate#1=AccessDenied' },
    });
    expect(failed.code).toBe(1);
    const error = JSON.parse(failed.stdout).error as { notRolledBack: { action: string; type: string; name: string }[]; suggestion: string };
    expect(error.notRolledBack).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'delete', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-half-control-plane' }),
        expect.objectContaining({ action: 'delete', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-half-nodes' }),
      ]),
    );
    expect(error.suggestion).toMatch(/run the command again/);
    expect(failed.stderr).not.toContain('Nothing was changed');
    expect(failed.stderr).toMatch(/Not rolled back \(\d+ change\(s\) cannot be undone\):/);
    expect(failed.stderr).toContain('delete AWS::AutoScaling::AutoScalingGroup k3sctl-half-nodes');

    const again = await runCliInProcess(['cluster', 'delete', 'half', '--sandbox', '--json', '--yes'], { home });
    expect(again.code).toBe(0);
    const gone = await runCliInProcess(['cluster', 'describe', 'half', '--sandbox', '--json'], { home });
    expect(gone.code).toBe(2);
  });
});
