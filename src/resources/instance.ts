// EC2 instances of a cluster: discovered by tags with paginated DescribeInstances (never one call per
// instance). Instances are launched by Auto Scaling groups; k3sctl only terminates strays on delete.
import { TerminateInstancesCommand, paginateDescribeInstances, type Instance } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterFilters, TagKeys, tagValue } from '../aws/tags';
import { waitFor } from '../core/wait';
import { STEADY_DRAIN_POLL } from '../provider/cluster';
import { journaledWrite } from '../provider/journaledWrite';
import type { Provider } from '../provider/provider';

export const INSTANCE_TYPE = 'AWS::EC2::Instance';

export interface ClusterInstance {
  instanceId: string;
  state: string;
  instanceType?: string;
  availabilityZone?: string;
  privateIp?: string;
  publicIp?: string;
  role?: string;
  group?: string;
  autoScalingGroup?: string;
  launchTemplateId?: string;
  launchTemplateVersion?: string;
  launchTime?: string;
}

function toInstance(i: Instance): ClusterInstance {
  return {
    instanceId: i.InstanceId!,
    state: String(i.State?.Name ?? 'unknown'),
    instanceType: i.InstanceType,
    availabilityZone: i.Placement?.AvailabilityZone,
    privateIp: i.PrivateIpAddress,
    publicIp: i.PublicIpAddress,
    role: tagValue(i.Tags, TagKeys.role),
    group: tagValue(i.Tags, TagKeys.group),
    autoScalingGroup: tagValue(i.Tags, 'aws:autoscaling:groupName'),
    launchTemplateId: tagValue(i.Tags, 'aws:ec2launchtemplate:id'),
    launchTemplateVersion: tagValue(i.Tags, 'aws:ec2launchtemplate:version'),
    launchTime: i.LaunchTime ? new Date(i.LaunchTime).toISOString() : undefined,
  };
}

/** The cluster's instances (not terminated unless asked), optionally of one group. */
export async function listClusterInstances(
  clients: AwsClients,
  cluster: string,
  options: { group?: string; includeTerminated?: boolean } = {},
): Promise<ClusterInstance[]> {
  const filters = clusterFilters(cluster, undefined, options.group);
  if (!options.includeTerminated) {
    filters.push({ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] });
  }
  const out: ClusterInstance[] = [];
  for await (const page of paginateDescribeInstances({ client: clients.ec2 }, { Filters: filters })) {
    for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []).map(toInstance));
  }
  return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

/** An instance that counts against the account's running-instance quotas. */
export interface RunningInstance {
  instanceId: string;
  instanceType: string;
  /** Spot instances count against the Spot quotas, not the On-Demand ones. */
  spot: boolean;
  /** The k3sctl cluster it belongs to, when tagged. */
  cluster?: string;
}

/**
 * Every pending or running instance of the region (any owner, any cluster or none): what the
 * On-Demand vCPU quota is measured against. Paginated, 1000 per page.
 */
export async function listRunningInstances(clients: AwsClients): Promise<RunningInstance[]> {
  const out: RunningInstance[] = [];
  const input = { Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }], MaxResults: 1000 };
  for await (const page of paginateDescribeInstances({ client: clients.ec2 }, input)) {
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        out.push({ instanceId: i.InstanceId!, instanceType: String(i.InstanceType), spot: i.InstanceLifecycle === 'spot', cluster: tagValue(i.Tags, TagKeys.cluster) });
      }
    }
  }
  return out;
}

/** Terminates instances directly (strays outside any group). NotFound is success. */
async function terminateInstances(clients: AwsClients, instanceIds: string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  await ignoringNotFound(() => clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds })), 'InvalidInstanceID.NotFound');
}

/** Not terminated nor terminating. */
const isLive = (i: ClusterInstance) => !/^(shutting-down|terminated)$/.test(i.state);

export const instanceProvider: Provider = {
  type: INSTANCE_TYPE,
  iamActions: {
    read: ['ec2:DescribeInstances'],
    write: ['ec2:TerminateInstances'],
    delete: ['ec2:TerminateInstances'],
  },
  // Launched from the template, it runs with its instance profile and reads and writes the cluster's
  // parameters: they outlive it (the template only names them; see its createOnly).
  dependsOn: ['AWS::EC2::LaunchTemplate', 'AWS::IAM::InstanceProfile', 'AWS::SSM::Parameter'],
  // The cluster's instances outside any group (a group's instances leave with it, drained). Nothing the
  // cluster keeps depends on them, so they go in the first wave: no lifecycle hook drains them and no
  // target group lists them, and the control-plane groups still serve the nodes' drain.
  async discover(scope) {
    const strays = (await listClusterInstances(scope.clients, scope.cluster)).filter((i) => !i.autoScalingGroup && isLive(i));
    return strays.map((i) => ({ name: i.instanceId, id: i.instanceId }));
  },
  // Listed again: terminated as found now, then waited for until gone, so what they use can go after.
  deleteOwned: (run, _owned, options) =>
    run.step('terminate instances outside any group', async (ctx) => {
      const outside = async () => (await listClusterInstances(ctx.clients, options.cluster)).filter((i) => !i.autoScalingGroup);
      for (const i of (await outside()).filter(isLive)) {
        await journaledWrite(ctx, { action: 'delete', type: INSTANCE_TYPE, name: i.instanceId, id: i.instanceId }, () => terminateInstances(ctx.clients, [i.instanceId]));
      }
      const poll = { timeoutMs: 20 * 60_000 * options.timeoutScale, ...STEADY_DRAIN_POLL };
      await waitFor(ctx, { what: `instances of cluster ${options.cluster} outside any group terminated`, ...poll }, async () => {
        const left = await outside();
        return { done: left.length === 0, seen: left.map((i) => `${i.instanceId} ${i.state}`).join(', ') || 'none' };
      });
    }),
  undo: {
    delete: async (clients, data) => {
      await terminateInstances(clients, [String(data.instanceId)]);
    },
  },
};
