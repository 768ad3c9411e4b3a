import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { renderGroupResult, runGroupAdd, type GroupCommandContext } from '../../cli/groupAdd';
import { controlPlaneCpuCreditsFlag, extraSecurityGroupFlag, extraTargetGroupFlag, groupSelectionFlags } from '../../cli/groupFlags';

export default class ControlplaneAdd extends BaseCommand<typeof ControlplaneAdd> {
  static override description = 'Add a control-plane group to a cluster (another instance type, version or settings); its servers join the existing etcd';
  static override examples = ['<%= config.bin %> controlplane add demo cp-arm --control-plane-type t4g.medium --control-planes 1'];
  static override args = {
    cluster: Args.string({ description: 'cluster name', required: true }),
    group: Args.string({ description: 'group name', required: true }),
  };
  static override flags = {
    ...groupSelectionFlags,
    'control-planes': Flags.integer({ description: 'instance count, odd (default 1)', aliases: ['count'], env: 'K3SCTL_CONTROL_PLANES' }),
    'control-plane-type': Flags.string({ description: 'instance type (default t3.medium)', aliases: ['instance-type'], env: 'K3SCTL_CONTROL_PLANE_TYPE' }),
    'control-plane-cpu-credits': controlPlaneCpuCreditsFlag,
    'control-plane-security-group': extraSecurityGroupFlag('control planes', ['security-group']),
    'control-plane-target-group': extraTargetGroupFlag('control planes', ['target-group']),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const context: GroupCommandContext = {
      confirm: this.confirmPlanOnTerminal(`Apply these changes to cluster ${this.args.cluster}?`),
      deps: () => this.deps(),
      signal: () => this.interruptSignal(),
      specInput: (o) => this.specInput(o),
      asGiven: (flag) => this.asGiven(flag),
    };
    const result = await runGroupAdd(context, 'control-plane', this.args.cluster!, this.args.group!, f, f['control-planes'], f['control-plane-type'], f['control-plane-cpu-credits'], {
      securityGroups: f['control-plane-security-group'],
      targetGroups: f['control-plane-target-group'],
    });
    this.output(result, () => renderGroupResult(result));
    return result;
  }
}
