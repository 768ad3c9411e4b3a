import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { renderGroupResult, runGroupAdd, type GroupCommandContext } from '../../cli/groupAdd';
import { extraSecurityGroupFlag, extraTargetGroupFlag, groupSelectionFlags, nodeCpuCreditsFlag } from '../../cli/groupFlags';

export default class NodegroupAdd extends BaseCommand<typeof NodegroupAdd> {
  static override description = 'Add a node group to a cluster (instance type and count, subnets, labels, taints, spot), reusing its baseline';
  static override examples = [
    '<%= config.bin %> nodegroup add demo gpu --node-type g5.xlarge --nodes 1 --taint nvidia.com/gpu=true:NoSchedule',
    '<%= config.bin %> nodegroup add demo zone-a --subnet-filter availability-zone=us-east-1a --spot',
  ];
  static override args = {
    cluster: Args.string({ description: 'cluster name', required: true }),
    group: Args.string({ description: 'group name', required: true }),
  };
  static override flags = {
    ...groupSelectionFlags,
    nodes: Flags.integer({ description: 'instance count (default 2)', aliases: ['count'], env: 'K3SCTL_NODES' }),
    'node-type': Flags.string({ description: 'instance type (default t3.medium)', aliases: ['instance-type'], env: 'K3SCTL_NODE_TYPE' }),
    spot: Flags.boolean({ description: 'run on spot instances', env: 'K3SCTL_SPOT' }),
    'node-cpu-credits': nodeCpuCreditsFlag,
    'node-security-group': extraSecurityGroupFlag('nodes', ['security-group']),
    'node-target-group': extraTargetGroupFlag('nodes', ['target-group']),
  };

  private groupContext(): GroupCommandContext {
    return {
      confirm: this.confirmPlanOnTerminal(`Apply these changes to cluster ${this.args.cluster}?`),
      deps: () => this.deps(),
      signal: () => this.interruptSignal(),
      specInput: (o) => this.specInput(o),
      asGiven: (flag) => this.asGiven(flag),
    };
  }

  async run(): Promise<object> {
    const f = this.flags;
    const result = await runGroupAdd(this.groupContext(), 'node', this.args.cluster!, this.args.group!, f, f.nodes, f['node-type'], f['node-cpu-credits'], {
      securityGroups: f['node-security-group'],
      targetGroups: f['node-target-group'],
    });
    this.output(result, () => renderGroupResult(result));
    return result;
  }
}
