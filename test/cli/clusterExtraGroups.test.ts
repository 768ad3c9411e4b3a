// CLI end to end (the commands in process through oclif, test/helpers/inProcessCli.ts; --sandbox):
// a group's extra security groups and target groups given by name on cluster create and nodegroup
// add (through the --security-group / --target-group aliases), shown by cluster describe, converged
// with no change on a re-run. Another cluster's security group and ingress target group stand in
// for the user's (the sandbox CLI has no command that makes bare ones).
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const newHome = tempHomes();

describe('extra security groups and target groups (CLI, sandbox)', () => {
  it('takes them by name, shows them in describe, and re-runs without changes', async () => {
    const home = newHome();
    const cli = (...args: string[]) => runCliInProcess([...args, '--sandbox'], { home });
    const json = async (...args: string[]) => {
      const r = await cli(...args, '--json');
      expect({ args, code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ args, code: 0, stderr: '' });
      return JSON.parse(r.stdout);
    };
    await json('certificate', 'request', 'example.com', '--san', '*.example.com', '--san', '*.us-east-1.example.com');
    await json('alb', 'create', 'shared', '--certificate-domain', 'example.com');
    await json('cluster', 'create', 'one', '--control-planes', '1', '--nodes', '1', '--ingress-alb', 'shared', '--ingress-zone', 'example.com');

    const extras = ['--node-security-group', 'k3sctl-one', '--node-target-group', 'k3s-one-ing'];
    const created = await json('cluster', 'create', 'two', '--control-planes', '1', '--nodes', '1', ...extras);
    expect(created.changes.filter((c: { action: string }) => c.action === 'create').length).toBeGreaterThan(0);
    const described = await json('cluster', 'describe', 'two');
    const nodes = described.groups.find((g: { name: string }) => g.name === 'nodes');
    expect(nodes.securityGroupIds).toEqual([expect.stringMatching(/^sg-/)]);
    expect(nodes.targetGroupArns).toEqual([expect.stringMatching(/:targetgroup\/k3s-one-ing\//)]);
    const text = await cli('cluster', 'describe', 'two');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`nodes: extra security groups ${nodes.securityGroupIds[0]}; target groups k3s-one-ing`);
    expect(text.stdout).not.toMatch(/control-plane: extra/);

    const again = await json('cluster', 'create', 'two', '--control-planes', '1', '--nodes', '1', ...extras);
    expect(again.apiCalls.write).toBe(0);

    const added = await json('nodegroup', 'add', 'two', 'web', '--nodes', '1', '--security-group', 'k3sctl-one', '--target-group', 'k3s-one-ing');
    expect(added).toMatchObject({ group: 'web', desired: 1 });
    const web = (await json('cluster', 'describe', 'two')).groups.find((g: { name: string }) => g.name === 'web');
    expect([web.securityGroupIds, web.targetGroupArns]).toEqual([nodes.securityGroupIds, nodes.targetGroupArns]);

    // A name that matches nothing: exit 2 naming the flag as typed (the alias).
    const missing = await cli('nodegroup', 'add', 'two', 'web2', '--security-group', 'no-such-group', '--json');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ field: '--node-security-group' });
  }, 240_000);
});
