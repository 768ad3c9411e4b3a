// The IAM actions of requiredActions (each cluster kind's from its provider), proved against what the commands do: every command runs in the
// sandbox (in process, one account), and every AWS operation it calls must be an action of its list
// (the preflight of `cluster create` may also call the actions of `doctor`; sts:GetCallerIdentity needs
// no permission). The lists may hold more (rollback paths, iam:PassRole, ec2:RunInstances by Auto Scaling).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { actionResource, actionsOf, requiredActions } from '../../../src/orchestration/steps/requiredActions';
import { providers } from '../../../src/resources/registry';
import { tempHomes } from '../../helpers/cli';
import { runInProcess } from '../../helpers/inProcessCli';

const REQUIRED_ACTIONS = requiredActions(providers);

/** Commands in an order where each finds what it needs: [requiredActions key, argv]. */
const STEPS: [string, string[]][] = [
  ['certificate request', ['certificate', 'request', 'example.com', '--san', '*.example.com']],
  ['certificate request', ['certificate', 'request', 'other.example.com']],
  ['alb create', ['alb', 'create', 'shared', '--certificate-domain', 'example.com']],
  ['doctor', ['doctor', 'demo']],
  ['cluster create', ['cluster', 'create', 'plain', '--control-planes', '1', '--nodes', '1']],
  ['cluster create --ingress-alb', ['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com']],
  // An extra target group of a cluster without the ingress (demo's ingress target group will do), then none again.
  ['cluster create --node-target-group', ['cluster', 'create', 'plain', '--control-planes', '1', '--nodes', '1', '--node-target-group', 'k3s-demo-ing']],
  ['cluster create', ['cluster', 'create', 'plain', '--control-planes', '1', '--nodes', '1']],
  ['cluster list', ['cluster', 'list']],
  ['cluster describe', ['cluster', 'describe', 'demo']],
  ['nodegroup add', ['nodegroup', 'add', 'demo', 'ng2']],
  ['controlplane add', ['controlplane', 'add', 'demo', 'cp2', '--count', '1']],
  ['nodegroup list', ['nodegroup', 'list', 'demo']],
  ['nodegroup scale', ['nodegroup', 'scale', 'demo', 'ng2', '--nodes', '3']],
  ['endpoint create', ['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'demo']],
  ['endpoint list', ['endpoint', 'list']],
  ['endpoint describe', ['endpoint', 'describe', 'blog']],
  ['endpoint weight', ['endpoint', 'weight', 'blog', 'demo=2']],
  ['endpoint delete', ['endpoint', 'delete', 'blog']],
  ['kubeconfig', ['kubeconfig', 'demo', '--via', 'ssm', '--print']],
  ['recycle', ['recycle', 'demo', '--force']],
  ['upgrade', ['upgrade', 'demo', '--k3s-version', 'v1.32.2+k3s1']],
  ['nodegroup delete', ['nodegroup', 'delete', 'demo', 'ng2']],
  ['alb list', ['alb', 'list']],
  ['certificate list', ['certificate', 'list']],
  ['cluster delete', ['cluster', 'delete', 'demo']],
  ['cluster delete', ['cluster', 'delete', 'plain']],
  ['alb delete', ['alb', 'delete', 'shared']],
  ['certificate delete', ['certificate', 'delete', 'other.example.com']],
];

describe('requiredActions', () => {
  const homes = tempHomes();

  it('covers every AWS operation each command calls in the sandbox', async () => {
    const home = homes();
    const calls = (): Record<string, number> => {
      const file = path.join(home, 'sandbox/state.json');
      return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).calls.byOperation : {};
    };
    const missing: string[] = [];
    const ran = new Set<string>();
    for (const [command, argv] of STEPS) {
      const before = calls();
      const r = await runInProcess([...argv, '--sandbox', '--yes', '--json'], { K3SCTL_HOME: home });
      expect({ command, code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ command, code: 0, stderr: '' });
      ran.add(command);
      const allowed = [...(REQUIRED_ACTIONS[command] ?? []), ...(command.startsWith('cluster create') ? REQUIRED_ACTIONS.doctor : [])];
      for (const [op, n] of Object.entries(calls())) {
        if (n === (before[op] ?? 0) || op === 'GetCallerIdentity') continue;
        if (!allowed.some((a) => a.split(':')[1] === op)) missing.push(`${command}: ${op}`);
      }
    }
    expect(missing).toEqual([]);
    // Every listed command was run.
    expect(Object.keys(REQUIRED_ACTIONS).filter((c) => !ran.has(c))).toEqual([]);
  }, 120_000);

  it('places the actions of a cluster\'s commands on its own resources, the others on *', () => {
    const ctx = { partition: 'aws', account: '111122223333', region: 'eu-west-1', cluster: 'demo' };
    expect(actionResource('cluster create', 'iam:CreateRole', ctx)).toBe('arn:aws:iam::111122223333:role/k3sctl-demo-eu-west-1-node');
    expect(actionResource('cluster create', 'iam:AddRoleToInstanceProfile', ctx)).toBe('arn:aws:iam::111122223333:instance-profile/k3sctl-demo-eu-west-1-node');
    expect(actionResource('cluster create', 'ssm:PutParameter', ctx)).toBe('arn:aws:ssm:eu-west-1:111122223333:parameter/k3sctl/clusters/demo/config');
    expect(actionResource('recycle', 'autoscaling:TerminateInstanceInAutoScalingGroup', ctx)).toBe(
      'arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/k3sctl-demo-nodes',
    );
    expect(actionResource('cluster create', 'ec2:RunInstances', ctx)).toBe('*');
    expect(actionResource('cluster create --ingress-alb', 'iam:PassRole', ctx)).toBe('arn:aws:iam::111122223333:role/k3sctl-demo-eu-west-1-node');
    // Without the automatic ingress, cluster create needs no ELBv2 or Route 53 action.
    expect(REQUIRED_ACTIONS['cluster create'].filter((a) => /^(elasticloadbalancing|route53):/.test(a))).toEqual([]);
    expect(actionResource('endpoint create', 'ssm:PutParameter', ctx)).toBe('*');
    expect(actionsOf(providers, ['cluster list'])).toEqual(['ec2:DescribeSecurityGroups', 'ssm:GetParametersByPath']);
    for (const action of actionsOf(providers)) expect(action).toMatch(/^(ec2|autoscaling|elasticloadbalancing|iam|ssm|acm|route53|servicequotas):[A-Z][A-Za-z]+$/);
  });
});
