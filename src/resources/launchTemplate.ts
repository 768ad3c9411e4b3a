// Launch templates of a cluster's groups. A change is a new version made the default (instances launched
// from older versions are out of date until recycled). Found by deterministic name, owned by tag.
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  paginateDescribeLaunchTemplates,
  RunInstancesCommand,
  type LaunchTemplate,
  type RequestLaunchTemplateData,
  type ResponseLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import * as crypto from 'node:crypto';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterTags, managedTagMap, TagKeys, tagMapOf, type Tag } from '../aws/tags';
import { awsErrorCode, UserError } from '../core/errors';
import { deleteEachOwned } from '../provider/cluster';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, TaskRef, UndoRecord } from '../provider/types';
import type { FieldChange } from '../provider/fieldChange';
import { retryWhileNotReady } from '../core/wait';
import type { Provider } from '../provider/provider';
import { taskRef } from '../provider/taskRef';
import type { ClusterView } from '../provider/clusterView';
import { names } from '../aws/names';
import { clusterInstanceProfileRef } from './instanceProfile';
import { clusterSecurityGroupRef } from './securityGroup';

export const LAUNCH_TEMPLATE_TYPE = 'AWS::EC2::LaunchTemplate';

/** EC2 answers NotFound by id or by name with different codes. */
const LAUNCH_TEMPLATE_NOT_FOUND = ['InvalidLaunchTemplateId.NotFound', 'InvalidLaunchTemplateName.NotFound'];

/** What a group's instances are launched with; the references are filled from other tasks' outputs. */
export interface LaunchTemplateInput {
  imageId: string;
  instanceType: string;
  keyName?: string;
  instanceProfileArn: string;
  securityGroupIds: string[];
  userDataBase64: string;
  rootDeviceName: string;
  rootVolumeSize: number;
  rootVolumeType: string;
  /** IMDSv2 PUT response hop limit: 1 keeps the token (and so the role's credentials) off pod networks. */
  imdsHopLimit: number;
  /** CreditSpecification of burstable types; undefined: none in the template (EC2's default for the family). */
  cpuCredits?: 'standard' | 'unlimited';
  /** Tags of launched instances and their volumes. */
  instanceTags: Tag[];
}

export interface LaunchTemplateSpec {
  key: string;
  name: string;
  cluster: string;
  role: 'control-plane' | 'node';
  group: string;
  dependsOn: readonly TaskRef<unknown>[];
  /** Built when needed, from the outputs of `dependsOn` (undefined while they do not exist: dry run). */
  input: (ctx: RunContext) => LaunchTemplateInput | undefined;
  /** Settings the user chose, shown under the template's create in the plan (see Task.settings). */
  settings?: string[];
}

export interface LaunchTemplateState {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
  /** The managed fields of the default version, normalised. */
  data: Record<string, unknown>;
  tags: Record<string, string>;
}

/**
 * The request data: IMDSv2 only, with the group's hop limit (1 by default: a pod behind the extra
 * network hop gets no token, so no node credentials), encrypted root volume.
 */
export function launchTemplateData(input: LaunchTemplateInput): RequestLaunchTemplateData {
  return {
    ImageId: input.imageId,
    InstanceType: input.instanceType as never,
    KeyName: input.keyName,
    IamInstanceProfile: { Arn: input.instanceProfileArn },
    SecurityGroupIds: [...input.securityGroupIds].sort(),
    UserData: input.userDataBase64,
    MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: input.imdsHopLimit, HttpEndpoint: 'enabled' },
    ...(input.cpuCredits ? { CreditSpecification: { CpuCredits: input.cpuCredits } } : {}),
    BlockDeviceMappings: [
      {
        DeviceName: input.rootDeviceName,
        Ebs: { VolumeSize: input.rootVolumeSize, VolumeType: input.rootVolumeType as never, Encrypted: true, DeleteOnTermination: true },
      },
    ],
    TagSpecifications: [
      { ResourceType: 'instance', Tags: input.instanceTags },
      { ResourceType: 'volume', Tags: input.instanceTags },
    ],
  };
}

function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(managedTagMap(tags)).sort(([a], [b]) => a.localeCompare(b)));
}

/** Per run (its journal): each instance profile's probe, shared by every group that uses the profile. */
const profileProbes = new WeakMap<object, Map<string, Promise<void>>>();

/** How often a refused instance profile is probed: IAM propagation takes seconds, a dry run is cheap. */
const PROFILE_PROBE_INTERVAL_MS = 1_500;

/**
 * Waits until EC2 accepts the template's instance profile: a RunInstances dry run of the template answers
 * DryRunOperation (it would have succeeded), not InvalidParameterValue "Invalid IAM Instance Profile".
 * IAM is eventually consistent: a new profile is refused for seconds, and an Auto Scaling group created
 * before then fails its first launches and waits its launch backoff (10 s and more) to try again. One
 * probe per profile and run; nothing is launched.
 */
export function waitForInstanceProfileUsable(
  ctx: RunContext,
  template: Pick<LaunchTemplateState, 'id' | 'defaultVersion' | 'data'>,
  launch: { subnetId: string; instanceType: string },
): Promise<void> {
  const profileArn = template.data.instanceProfileArn;
  if (typeof profileArn !== 'string') return Promise.resolve();
  let probes = profileProbes.get(ctx.journal);
  if (!probes) profileProbes.set(ctx.journal, (probes = new Map()));
  const pending = probes.get(profileArn);
  if (pending) return pending;
  const probe = retryWhileNotReady(
    ctx,
    {
      what: `instance profile ${profileArn.split('/').pop()} usable by EC2`,
      timeoutMs: 2 * 60_000 * (ctx.timeoutScale ?? 1),
      intervalMs: PROFILE_PROBE_INTERVAL_MS,
      maxIntervalMs: PROFILE_PROBE_INTERVAL_MS,
    },
    async () => {
      try {
        await ctx.clients.ec2.send(
          new RunInstancesCommand({
            DryRun: true,
            MinCount: 1,
            MaxCount: 1,
            LaunchTemplate: { LaunchTemplateId: template.id, Version: String(template.defaultVersion) },
            SubnetId: launch.subnetId,
            InstanceType: launch.instanceType as never,
          }),
        );
      } catch (error) {
        if (awsErrorCode(error) !== 'DryRunOperation') throw error;
      }
    },
  );
  // A failed probe is not remembered: a task retried later in the run probes again.
  probes.set(profileArn, probe);
  probe.catch(() => probes.delete(profileArn));
  return probe;
}

/** The fields k3sctl manages, in a comparable form (same shape for request and response data). */
export function normalizeLaunchTemplateData(d: RequestLaunchTemplateData | ResponseLaunchTemplateData): Record<string, unknown> {
  const root = d.BlockDeviceMappings?.[0];
  const tagsOf = (type: string) => tagMap(d.TagSpecifications?.find((t) => t.ResourceType === type)?.Tags);
  return {
    imageId: d.ImageId,
    instanceType: d.InstanceType,
    keyName: d.KeyName ?? null,
    instanceProfileArn: d.IamInstanceProfile?.Arn ?? null,
    securityGroupIds: [...(d.SecurityGroupIds ?? [])].sort(),
    userDataSha256: d.UserData ? crypto.createHash('sha256').update(d.UserData).digest('hex') : null,
    httpTokens: d.MetadataOptions?.HttpTokens ?? null,
    imdsHopLimit: d.MetadataOptions?.HttpPutResponseHopLimit ?? null,
    cpuCredits: d.CreditSpecification?.CpuCredits ?? null,
    rootDevice: root?.DeviceName ?? null,
    rootVolumeSize: root?.Ebs?.VolumeSize ?? null,
    rootVolumeType: root?.Ebs?.VolumeType ?? null,
    rootEncrypted: root?.Ebs?.Encrypted ?? null,
    instanceTags: tagsOf('instance'),
    volumeTags: tagsOf('volume'),
  };
}

/**
 * Differences between two normalised data sets. A changed field makes a new version of the same
 * template (versions are immutable; the template and its id stay, as CloudFormation's "no interruption"
 * update of LaunchTemplateData): an update, not a replacement.
 */
export function diffLaunchTemplateData(actual: Record<string, unknown>, desired: Record<string, unknown>): FieldChange[] {
  const out: FieldChange[] = [];
  for (const k of Object.keys(desired)) {
    const a = JSON.stringify(actual[k]);
    const b = JSON.stringify(desired[k]);
    if (a !== b) out.push(k === 'userDataSha256' ? { field: 'userData', changed: true } : { field: k, from: `${a}`, to: `${b}` });
  }
  return out;
}

async function defaultVersionData(clients: AwsClients, id: string): Promise<ResponseLaunchTemplateData | undefined> {
  const out = await clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] }));
  return out.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
}

function toState(lt: LaunchTemplate, data: ResponseLaunchTemplateData | undefined): LaunchTemplateState {
  return {
    id: lt.LaunchTemplateId!,
    name: lt.LaunchTemplateName!,
    defaultVersion: Number(lt.DefaultVersionNumber ?? 1),
    latestVersion: Number(lt.LatestVersionNumber ?? 1),
    data: data ? normalizeLaunchTemplateData(data) : {},
    tags: managedTagMap(lt.Tags as Tag[]),
  };
}

async function describeLaunchTemplates(clients: AwsClients, filters: { Name: string; Values: string[] }[]): Promise<LaunchTemplate[]> {
  const out: LaunchTemplate[] = [];
  for await (const page of paginateDescribeLaunchTemplates({ client: clients.ec2 }, { Filters: filters })) out.push(...(page.LaunchTemplates ?? []));
  return out;
}

/** The launch template by name with its default version's data, or undefined. */
export async function findLaunchTemplate(clients: AwsClients, name: string): Promise<LaunchTemplateState | undefined> {
  const found = await describeLaunchTemplates(clients, [{ Name: 'launch-template-name', Values: [name] }]);
  if (found.length === 0) return undefined;
  return toState(found[0], await defaultVersionData(clients, found[0].LaunchTemplateId!));
}

/** Every launch template tagged as the cluster's (without version data). */
async function listClusterLaunchTemplates(clients: AwsClients, cluster: string): Promise<LaunchTemplateState[]> {
  const found = await describeLaunchTemplates(clients, [{ Name: `tag:${TagKeys.cluster}`, Values: [cluster] }]);
  return found.map((lt) => toState(lt, undefined));
}

/** Deletes a launch template with all its versions; NotFound is success. */
export async function deleteLaunchTemplate(clients: AwsClients, id: string): Promise<boolean> {
  return ignoringNotFound(() => clients.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id })), ...LAUNCH_TEMPLATE_NOT_FOUND);
}

/** The task of one group's launch template (its Auto Scaling group launches from it). */
export const groupLaunchTemplateRef = (group: string) => taskRef<LaunchTemplateState>(`launchTemplate/${group}`);

/** One template per group: its role's instance profile, the cluster's, ingress and the user's security groups, its user data. */
function groupLaunchTemplateTasks(view: ClusterView): Task[] {
  const cluster = view.name;
  const securityGroup = clusterSecurityGroupRef;
  return view.groups.map((group) => {
    const profile = clusterInstanceProfileRef(group.role);
    const extraSgs = group.extraSecurityGroupIds;
    return launchTemplateTask({
      key: groupLaunchTemplateRef(group.name).key,
      name: names.launchTemplate(cluster, group.name),
      cluster,
      role: group.role,
      group: group.name,
      dependsOn: [profile, securityGroup],
      settings: [
        ...(group.cpuCredits ? [`cpuCredits: ${group.cpuCredits}`] : []),
        ...(extraSgs.length ? [`extra securityGroups: ${extraSgs.join(', ')}`] : []),
      ],
      input: (ctx) => {
        const profileState = ctx.get(profile);
        const sg = ctx.get(securityGroup);
        if (!profileState || !sg) return undefined;
        return {
          imageId: group.imageId,
          instanceType: group.instanceType,
          keyName: view.keyName,
          instanceProfileArn: profileState.arn,
          // The cluster's own, the ingress ones, then the user's (the template stores them sorted).
          securityGroupIds: [...new Set([sg.groupId, ...view.ingressSecurityGroupIds, ...extraSgs])],
          userDataBase64: group.userDataBase64,
          rootDeviceName: group.rootDeviceName,
          rootVolumeSize: group.rootVolumeSize,
          rootVolumeType: group.rootVolumeType,
          imdsHopLimit: group.imdsHopLimit,
          cpuCredits: group.cpuCredits,
          // Same Name as the group's propagated ASG tag (the ASG's value would override a different one).
          instanceTags: clusterTags(cluster, group.role, { group: group.name, name: names.autoScalingGroup(cluster, group.name) }),
        };
      },
    });
  });
}

export const launchTemplateProvider: Provider = {
  type: LAUNCH_TEMPLATE_TYPE,
  iamActions: {
    read: ['ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions'],
    write: ['ec2:CreateLaunchTemplate', 'ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate', 'ec2:DeleteLaunchTemplate', 'ec2:DeleteLaunchTemplateVersions', 'ec2:CreateTags'],
    delete: ['ec2:DeleteLaunchTemplate'],
  },
  dependsOn: ['AWS::EC2::SecurityGroup', 'AWS::IAM::InstanceProfile', 'AWS::SSM::Parameter'],
  clusterTasks: groupLaunchTemplateTasks,
  // A template only names its instance profile and parameters (AWS lets them go while it exists): they
  // are deleted as soon as the groups and instances that use them are gone, even if it is not.
  createOnly: ['AWS::IAM::InstanceProfile', 'AWS::SSM::Parameter'],
  async discover(scope) {
    return (await listClusterLaunchTemplates(scope.clients, scope.cluster)).map((lt) => ({ name: lt.name, id: lt.id }));
  },
  deleteOwned: deleteEachOwned('delete launch templates', LAUNCH_TEMPLATE_TYPE, (ctx, id) => deleteLaunchTemplate(ctx.clients, id)),
  perGroup: {
    async discover(scope, group) {
      // Name and id are all the delete needs: no version data.
      const [lt] = await describeLaunchTemplates(scope.clients, [{ Name: 'launch-template-name', Values: [names.launchTemplate(scope.cluster, group)] }]);
      return lt ? [{ name: lt.LaunchTemplateName!, id: lt.LaunchTemplateId! }] : [];
    },
    deleteOwned: deleteEachOwned('delete the launch template', LAUNCH_TEMPLATE_TYPE, (ctx, id) => deleteLaunchTemplate(ctx.clients, id)),
  },
  undo: {
    delete: async (clients, data) => {
      await deleteLaunchTemplate(clients, String(data.id));
    },
    restore: async (clients, data) => {
      const id = String(data.id);
      await ignoringNotFound(async () => {
        await clients.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: String(data.previousDefault) }));
        if (data.newVersion !== undefined) {
          await clients.ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: [String(data.newVersion)] }));
        }
      }, ...LAUNCH_TEMPLATE_NOT_FOUND);
    },
  },
};

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; id?: string; undo?: UndoRecord }, fn: () => Promise<T>, describe?: (r: T) => { id?: string; undo?: UndoRecord }): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.id, type: LAUNCH_TEMPLATE_TYPE }, fn, describe);
}

function clientToken(runId: string, name: string, what: string): string {
  return crypto.createHash('sha256').update(`${runId}/${name}/${what}`).digest('hex').slice(0, 64);
}

export function launchTemplateTask(spec: LaunchTemplateSpec): Task<LaunchTemplateState> {
  const tags = (): Tag[] => clusterTags(spec.cluster, spec.role, { group: spec.group, name: spec.name });
  const build = (ctx: RunContext) => {
    const input = spec.input(ctx);
    if (!input) throw new UserError(`internal: launch template ${spec.name} built before its dependencies exist`);
    return launchTemplateData(input);
  };
  return {
    key: spec.key,
    type: LAUNCH_TEMPLATE_TYPE,
    name: spec.name,
    dependsOn: spec.dependsOn,
    async find(ctx) {
      const found = await findLaunchTemplate(ctx.clients, spec.name);
      if (found && found.tags[TagKeys.cluster] !== spec.cluster) {
        throw new UserError(
          `launch template ${spec.name} exists but is not owned by cluster ${spec.cluster} (tag ${TagKeys.cluster}=${found.tags[TagKeys.cluster] ?? 'none'})`,
          'delete or rename it, or pick another cluster name',
        );
      }
      return found;
    },
    settings() {
      return spec.settings ?? [];
    },
    diff(actual, ctx) {
      const input = spec.input(ctx);
      if (!input) return [{ field: 'version', pending: 'new version (depends on resources still to be created)' }];
      return diffLaunchTemplateData(actual.data, normalizeLaunchTemplateData(launchTemplateData(input)));
    },
    async create(ctx) {
      const data = build(ctx);
      const out = await write(
        ctx,
        { action: 'create', name: spec.name },
        () =>
          ctx.clients.ec2.send(
            new CreateLaunchTemplateCommand({
              LaunchTemplateName: spec.name,
              ClientToken: clientToken(ctx.runId, spec.name, 'create'),
              VersionDescription: `k3sctl ${spec.cluster}/${spec.group}`,
              LaunchTemplateData: data,
              TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags() }],
            }),
          ),
        (r) => ({ id: r.LaunchTemplate?.LaunchTemplateId, undo: { type: LAUNCH_TEMPLATE_TYPE, action: 'delete', data: { id: r.LaunchTemplate?.LaunchTemplateId, name: spec.name } } }),
      );
      const lt = out.LaunchTemplate!;
      return { ...toState(lt, undefined), data: normalizeLaunchTemplateData(data), tags: tagMapOf(tags()) };
    },
    async update(actual, _changes, ctx) {
      const data = build(ctx);
      const v = await write(ctx, { action: 'update', name: spec.name, id: actual.id }, () =>
        ctx.clients.ec2.send(
          new CreateLaunchTemplateVersionCommand({
            LaunchTemplateId: actual.id,
            ClientToken: clientToken(ctx.runId, spec.name, `version-after-${actual.latestVersion}`),
            LaunchTemplateData: data,
            VersionDescription: `k3sctl ${spec.cluster}/${spec.group}`,
          }),
        ),
      );
      const newVersion = Number(v.LaunchTemplateVersion?.VersionNumber);
      await write(
        ctx,
        {
          action: 'update',
          name: spec.name,
          id: actual.id,
          undo: { type: LAUNCH_TEMPLATE_TYPE, action: 'restore', data: { id: actual.id, previousDefault: actual.defaultVersion, newVersion } },
        },
        () => ctx.clients.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: actual.id, DefaultVersion: String(newVersion) })),
      );
      return { ...actual, defaultVersion: newVersion, latestVersion: newVersion, data: normalizeLaunchTemplateData(data) };
    },
    id: (actual) => actual.id,
  };
}
