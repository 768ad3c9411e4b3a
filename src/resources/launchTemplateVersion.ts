// New launch template versions for `upgrade`: a version made from the current default with only the
// user data replaced (SourceVersion), set as the default; and a group's pinned version moved to it.
// Undo restores the previous default and deletes the new version (the launch template module's
// restore handler), or points the group back at its previous version.
import { UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import * as crypto from 'node:crypto';
import type { AwsClients } from '../aws/clients';
import { awsErrorCode, UserError } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext } from '../provider/types';
import { AUTO_SCALING_GROUP_TYPE } from './autoScalingGroup';
import { LAUNCH_TEMPLATE_TYPE } from './launchTemplate';
import type { Provider } from '../provider/provider';

export const GROUP_LAUNCH_TEMPLATE_UNDO_TYPE = 'AWS::AutoScaling::AutoScalingGroup::LaunchTemplateVersion';

export interface LaunchTemplateVersionState {
  templateId: string;
  templateName: string;
  versionNumber: number;
  defaultVersion: number;
  /** Base64 user data of this version ('' when none). */
  userDataBase64: string;
}

/** One version (`$Default`, `$Latest` or a number) of a launch template, with its user data. */
export async function readLaunchTemplateVersion(
  clients: AwsClients,
  templateId: string,
  version: string,
): Promise<LaunchTemplateVersionState> {
  const [versions, templates] = await Promise.all([
    clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }),
    ),
    clients.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [templateId] })),
  ]);
  const v = versions.LaunchTemplateVersions?.[0];
  const t = templates.LaunchTemplates?.[0];
  if (!v || !t) throw new UserError(`launch template ${templateId} version ${version} not found`);
  return {
    templateId,
    templateName: t.LaunchTemplateName ?? templateId,
    versionNumber: Number(v.VersionNumber),
    defaultVersion: Number(t.DefaultVersionNumber),
    userDataBase64: v.LaunchTemplateData?.UserData ?? '',
  };
}

/**
 * Creates a version from `source` with `userDataBase64` as its only change and makes it the default.
 * The client token is derived from the run, template and source version, so a retried call does not
 * create a second version.
 */
export async function createUserDataVersion(
  ctx: RunContext,
  source: LaunchTemplateVersionState,
  userDataBase64: string,
  description: string,
): Promise<number> {
  const token = crypto
    .createHash('sha256')
    .update(`${ctx.runId}/${source.templateId}/${source.versionNumber}/user-data`)
    .digest('hex')
    .slice(0, 64);
  const undoData = { id: source.templateId, previousDefault: source.defaultVersion };
  const created = await journaledWrite(
    ctx,
    {
      action: 'update',
      type: LAUNCH_TEMPLATE_TYPE,
      name: source.templateName,
      id: source.templateId,
      undo: { type: LAUNCH_TEMPLATE_TYPE, action: 'restore', data: undoData },
    },
    () =>
      ctx.clients.ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: source.templateId,
          SourceVersion: String(source.versionNumber),
          ClientToken: token,
          VersionDescription: description,
          LaunchTemplateData: { UserData: userDataBase64 },
        }),
      ),
    (out) => ({
      undo: {
        type: LAUNCH_TEMPLATE_TYPE,
        action: 'restore',
        data: { ...undoData, newVersion: out.LaunchTemplateVersion?.VersionNumber },
      },
    }),
  );
  const newVersion = Number(created.LaunchTemplateVersion?.VersionNumber);
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: LAUNCH_TEMPLATE_TYPE,
      name: source.templateName,
      id: source.templateId,
      undo: { type: LAUNCH_TEMPLATE_TYPE, action: 'restore', data: { ...undoData, newVersion } },
    },
    () =>
      ctx.clients.ec2.send(
        new ModifyLaunchTemplateCommand({
          LaunchTemplateId: source.templateId,
          DefaultVersion: String(newVersion),
        }),
      ),
  );
  return newVersion;
}

/** Points a group that pins a numeric version at `version` (groups on `$Default`/`$Latest` need nothing). */
export async function setGroupLaunchTemplateVersion(
  ctx: RunContext,
  groupName: string,
  templateId: string,
  previousVersion: string,
  version: number,
): Promise<void> {
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: AUTO_SCALING_GROUP_TYPE,
      name: groupName,
      id: groupName,
      undo: {
        type: GROUP_LAUNCH_TEMPLATE_UNDO_TYPE,
        action: 'restore',
        data: { groupName, templateId, version: previousVersion },
      },
    },
    () =>
      ctx.clients.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: groupName,
          LaunchTemplate: { LaunchTemplateId: templateId, Version: String(version) },
        }),
      ),
  );
}

export const groupLaunchTemplateVersionProvider: Provider = {
  type: GROUP_LAUNCH_TEMPLATE_UNDO_TYPE,
  dependsOn: ['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate'],
  undo: {
    async restore(clients, data) {
      try {
        await clients.autoscaling.send(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: String(data.groupName),
            LaunchTemplate: { LaunchTemplateId: String(data.templateId), Version: String(data.version) },
          }),
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : '';
        if (!(awsErrorCode(error) === 'ValidationError' && /not found/i.test(message))) throw error;
      }
    },
  },
};
