// Launch templates and their versions. LaunchTemplateData is stored verbatim (as the SDK sent it).
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import type { SandboxContext } from '../../account';
import { applyFilters } from './filters';
import { validateTagSpecifications } from './tagging';
import {
  digest,
  ec2State,
  tagsFrom,
  type Ec2State,
  type LaunchTemplate,
  type LaunchTemplateVersion,
} from './state';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

/** CreditSpecification.CpuCredits values EC2 accepts (burstable performance instances). */
export const CPU_CREDIT_OPTIONS = ['standard', 'unlimited'];

/** EC2 limits raw (decoded) user data to 16 KB. */
export const MAX_USER_DATA_BYTES = 16384;

export function checkUserData(userData: unknown, where: string): void {
  if (userData === undefined) return;
  if (typeof userData !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(userData) || userData.length % 4 !== 0) {
    throw awsError('InvalidUserData.Malformed', `Invalid BASE64 encoding of user data (${where}).`);
  }
  const bytes = Buffer.from(userData, 'base64').length;
  if (bytes > MAX_USER_DATA_BYTES) {
    throw awsError(
      'InvalidParameterValue',
      `User data is limited to ${MAX_USER_DATA_BYTES} bytes (${where} has ${bytes}).`,
    );
  }
}

function validateName(name: string): void {
  if (name.length < 3 || name.length > 128 || !/^[a-zA-Z0-9().\-/_]+$/.test(name)) {
    throw awsError(
      'InvalidLaunchTemplateName.MalformedException',
      'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
    );
  }
}

/** Finds a template by id or name with AWS's error codes. */
export function getLaunchTemplate(
  s: Ec2State,
  ref: { launchTemplateId?: string; launchTemplateName?: string },
): LaunchTemplate {
  if (ref.launchTemplateId) {
    if (!/^lt-[0-9a-f]{8,17}$/.test(ref.launchTemplateId)) {
      throw awsError(
        'InvalidLaunchTemplateId.Malformed',
        `The specified ID for the launch template (${ref.launchTemplateId}) is not valid.`,
      );
    }
    const lt = s.launchTemplates[ref.launchTemplateId];
    if (!lt)
      throw awsError(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${ref.launchTemplateId}, does not exist.`,
      );
    return lt;
  }
  if (ref.launchTemplateName) {
    const lt = Object.values(s.launchTemplates).find((t) => t.LaunchTemplateName === ref.launchTemplateName);
    if (!lt) {
      throw awsError(
        'InvalidLaunchTemplateName.NotFoundException',
        `The specified launch template, with template name ${ref.launchTemplateName}, does not exist.`,
      );
    }
    return lt;
  }
  throw awsError(
    'MissingParameter',
    'The request must contain the parameter LaunchTemplateId or LaunchTemplateName',
  );
}

/** The template a request names by `LaunchTemplateId` or `LaunchTemplateName`. */
function templateNamedIn(
  s: Ec2State,
  input: { LaunchTemplateId?: string; LaunchTemplateName?: string },
): LaunchTemplate {
  return getLaunchTemplate(s, {
    launchTemplateId: input.LaunchTemplateId,
    launchTemplateName: input.LaunchTemplateName,
  });
}

export function getVersion(lt: LaunchTemplate, version: string | undefined): LaunchTemplateVersion {
  const v = version ?? '$Default';
  const n = v === '$Latest' ? lt.LatestVersionNumber : v === '$Default' ? lt.DefaultVersionNumber : Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw awsError(
      'InvalidLaunchTemplateId.VersionNotFound',
      `Could not find launch template version ${v} for template ${lt.LaunchTemplateId}`,
    );
  const found = lt.versions[String(n)];
  if (!found)
    throw awsError(
      'InvalidLaunchTemplateId.VersionNotFound',
      `Could not find launch template version ${v} for template ${lt.LaunchTemplateId}`,
    );
  return found;
}

function templateOutput(ctx: SandboxContext, lt: LaunchTemplate): Ec2Sdk.LaunchTemplate {
  return {
    LaunchTemplateId: lt.LaunchTemplateId,
    LaunchTemplateName: lt.LaunchTemplateName,
    CreateTime: new Date(lt.createdAt),
    CreatedBy: `arn:aws:iam::${ctx.sb.state.accountId}:root`,
    DefaultVersionNumber: lt.DefaultVersionNumber,
    LatestVersionNumber: lt.LatestVersionNumber,
    Tags: lt.Tags.length ? lt.Tags : undefined,
  };
}

function versionOutput(
  ctx: SandboxContext,
  lt: LaunchTemplate,
  v: LaunchTemplateVersion,
): Ec2Sdk.LaunchTemplateVersion {
  return {
    LaunchTemplateId: lt.LaunchTemplateId,
    LaunchTemplateName: lt.LaunchTemplateName,
    VersionNumber: v.VersionNumber,
    VersionDescription: v.VersionDescription,
    CreateTime: new Date(v.createdAt),
    CreatedBy: `arn:aws:iam::${ctx.sb.state.accountId}:root`,
    DefaultVersion: lt.DefaultVersionNumber === v.VersionNumber,
    LaunchTemplateData: structuredClone(v.data),
  };
}

function validateData(data: Ec2Sdk.RequestLaunchTemplateData): void {
  checkUserData(data.UserData, 'LaunchTemplateData.UserData');
  // The value is checked here; whether the instance type has CPU credits only at launch (RunInstances).
  const credits = (data.CreditSpecification as { CpuCredits?: unknown } | undefined)?.CpuCredits;
  if (data.CreditSpecification !== undefined && !CPU_CREDIT_OPTIONS.includes(String(credits).toLowerCase())) {
    throw awsError('InvalidParameterValue', `Value (${String(credits)}) for parameter creditSpecification.cpuCredits is invalid. Valid values: standard, unlimited.`);
  }
  const specs = data.TagSpecifications as
    { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined;
  validateTagSpecifications(specs, 'instance', 'volume', 'network-interface', 'spot-instances-request');
}

/**
 * What an earlier CreateLaunchTemplate(Version) with this ClientToken made (undefined for a new token);
 * the token reused with other parameters is IdempotentParameterMismatch.
 */
function earlierRequestWithToken(
  s: Ec2State,
  clientToken: string | undefined,
  requestDigest: string,
): Ec2State['templateTokens'][string] | undefined {
  const seen = clientToken ? s.templateTokens[clientToken] : undefined;
  if (seen && seen.digest !== requestDigest)
    throw awsError(
      'IdempotentParameterMismatch',
      'The client token has already been used with different parameters.',
    );
  return seen;
}

const createLaunchTemplate: Handler<'CreateLaunchTemplate'> = (ctx, input) => {
  const name = required<string>(input.LaunchTemplateName, 'LaunchTemplateName');
  const data = required(input.LaunchTemplateData, 'LaunchTemplateData');
  const s = ec2State(ctx);
  const requestDigest = digest({ name, data, tags: input.TagSpecifications, d: input.VersionDescription });
  const seen = earlierRequestWithToken(s, input.ClientToken, requestDigest);
  const earlier = seen && s.launchTemplates[seen.launchTemplateId];
  if (earlier) return { LaunchTemplate: templateOutput(ctx, earlier) };
  validateName(name);
  if (Object.values(s.launchTemplates).some((t) => t.LaunchTemplateName === name)) {
    throw awsError(
      'InvalidLaunchTemplateName.AlreadyExistsException',
      `Launch template name already in use.`,
    );
  }
  validateData(data);
  validateTagSpecifications(input.TagSpecifications, 'launch-template');
  const id = ctx.sb.newId('lt-');
  const lt: LaunchTemplate = {
    LaunchTemplateId: id,
    LaunchTemplateName: name,
    createdAt: ctx.now,
    DefaultVersionNumber: 1,
    LatestVersionNumber: 1,
    Tags: tagsFrom(input.TagSpecifications, 'launch-template'),
    versions: {
      '1': { VersionNumber: 1, VersionDescription: input.VersionDescription, createdAt: ctx.now, data },
    },
  };
  s.launchTemplates[id] = lt;
  if (input.ClientToken)
    s.templateTokens[input.ClientToken] = { launchTemplateId: id, version: 1, digest: requestDigest };
  return { LaunchTemplate: templateOutput(ctx, lt) };
};

const createLaunchTemplateVersion: Handler<'CreateLaunchTemplateVersion'> = (ctx, input) => {
  const s = ec2State(ctx);
  const lt = templateNamedIn(s, input);
  const overrides = required(input.LaunchTemplateData, 'LaunchTemplateData');
  const requestDigest = digest({
    id: lt.LaunchTemplateId,
    overrides,
    src: input.SourceVersion,
    d: input.VersionDescription,
  });
  const seen = earlierRequestWithToken(s, input.ClientToken, requestDigest);
  const earlier = seen && lt.versions[String(seen.version)];
  if (earlier) return { LaunchTemplateVersion: versionOutput(ctx, lt, earlier) };
  // With SourceVersion the new version starts from that version's data; top-level fields given replace it.
  const base =
    input.SourceVersion !== undefined
      ? structuredClone(getVersion(lt, String(input.SourceVersion)).data)
      : {};
  const data = { ...base, ...overrides };
  validateData(data);
  const n = lt.LatestVersionNumber + 1;
  if (Object.keys(lt.versions).length >= 10000)
    throw awsError('VersionLimitExceeded', 'Launch template version limit exceeded.');
  const v: LaunchTemplateVersion = {
    VersionNumber: n,
    VersionDescription: input.VersionDescription,
    createdAt: ctx.now,
    data,
  };
  lt.versions[String(n)] = v;
  lt.LatestVersionNumber = n;
  if (input.ClientToken)
    s.templateTokens[input.ClientToken] = {
      launchTemplateId: lt.LaunchTemplateId,
      version: n,
      digest: requestDigest,
    };
  return { LaunchTemplateVersion: versionOutput(ctx, lt, v) };
};

const modifyLaunchTemplate: Handler<'ModifyLaunchTemplate'> = (ctx, input) => {
  const s = ec2State(ctx);
  const lt = templateNamedIn(s, input);
  if (input.DefaultVersion !== undefined) {
    const v = getVersion(lt, String(input.DefaultVersion));
    lt.DefaultVersionNumber = v.VersionNumber;
  }
  return { LaunchTemplate: templateOutput(ctx, lt) };
};

const describeLaunchTemplates: Handler<'DescribeLaunchTemplates'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.LaunchTemplateIds ?? [];
  const names: string[] = input.LaunchTemplateNames ?? [];
  for (const id of ids) getLaunchTemplate(s, { launchTemplateId: id });
  if (names.some((n) => !Object.values(s.launchTemplates).some((t) => t.LaunchTemplateName === n))) {
    throw awsError(
      'InvalidLaunchTemplateName.NotFoundException',
      'At least one of the launch templates specified in the request does not exist.',
    );
  }
  const templates = applyFilters(
    Object.values(s.launchTemplates).filter(
      (t) =>
        (ids.length === 0 || ids.includes(t.LaunchTemplateId)) &&
        (names.length === 0 || names.includes(t.LaunchTemplateName)),
    ),
    input.Filters,
    (t, name) =>
      ({
        'launch-template-name': [t.LaunchTemplateName],
        'create-time': [t.createdAt ? new Date(t.createdAt).toISOString() : undefined],
      })[name],
  ).sort((a, b) => a.createdAt - b.createdAt || a.LaunchTemplateName.localeCompare(b.LaunchTemplateName));
  const { page, nextToken } = paginate(templates, input.NextToken, input.MaxResults);
  return { LaunchTemplates: page.map((t) => templateOutput(ctx, t)), NextToken: nextToken };
};

const describeLaunchTemplateVersions: Handler<'DescribeLaunchTemplateVersions'> = (ctx, input) => {
  const s = ec2State(ctx);
  const hasRef = input.LaunchTemplateId !== undefined || input.LaunchTemplateName !== undefined;
  const templates = hasRef ? [templateNamedIn(s, input)] : Object.values(s.launchTemplates);
  const requested: string[] = input.Versions ?? [];
  if (!hasRef && requested.some((v) => !v.startsWith('$'))) {
    throw awsError(
      'InvalidParameterCombination',
      'Specific version numbers require a launch template id or name.',
    );
  }
  const rows: { lt: LaunchTemplate; v: LaunchTemplateVersion; Tags: [] }[] = [];
  for (const lt of templates) {
    let versions: LaunchTemplateVersion[];
    if (requested.length) {
      versions = [...new Set(requested.map((r) => getVersion(lt, r)))];
    } else {
      versions = Object.values(lt.versions).filter(
        (v) =>
          (input.MinVersion === undefined || v.VersionNumber >= Number(input.MinVersion)) &&
          (input.MaxVersion === undefined || v.VersionNumber <= Number(input.MaxVersion)),
      );
    }
    versions.sort((a, b) => b.VersionNumber - a.VersionNumber);
    for (const v of versions) rows.push({ lt, v, Tags: [] });
  }
  const filtered = applyFilters(
    rows,
    input.Filters,
    (r, name) =>
      ({
        'is-default-version': [r.lt && String(r.lt.DefaultVersionNumber === r.v.VersionNumber)],
        'instance-type': [r.v?.data.InstanceType as string | undefined],
        'image-id': [r.v?.data.ImageId as string | undefined],
        'key-name': [r.v?.data.KeyName as string | undefined],
      })[name],
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return { LaunchTemplateVersions: page.map((r) => versionOutput(ctx, r.lt, r.v)), NextToken: nextToken };
};

const deleteLaunchTemplate: Handler<'DeleteLaunchTemplate'> = (ctx, input) => {
  const s = ec2State(ctx);
  const lt = templateNamedIn(s, input);
  delete s.launchTemplates[lt.LaunchTemplateId];
  return { LaunchTemplate: templateOutput(ctx, lt) };
};

const deleteLaunchTemplateVersions: Handler<'DeleteLaunchTemplateVersions'> = (ctx, input) => {
  const s = ec2State(ctx);
  const lt = templateNamedIn(s, input);
  const versions: string[] = required(input.Versions, 'Versions');
  const ok: Ec2Sdk.DeleteLaunchTemplateVersionsResponseSuccessItem[] = [];
  const failed: Ec2Sdk.DeleteLaunchTemplateVersionsResponseErrorItem[] = [];
  for (const raw of versions) {
    const n = Number(raw);
    const base = {
      LaunchTemplateId: lt.LaunchTemplateId,
      LaunchTemplateName: lt.LaunchTemplateName,
      VersionNumber: n,
    };
    if (!lt.versions[String(n)]) {
      failed.push({
        ...base,
        ResponseError: {
          Code: 'launchTemplateVersionDoesNotExist',
          Message: `The specified launch template version does not exist.`,
        },
      });
    } else if (n === lt.DefaultVersionNumber) {
      failed.push({
        ...base,
        ResponseError: {
          // Not among the SDK's LaunchTemplateErrorCode values; kept as the sandbox has always answered.
          Code: 'launchTemplateVersionIsDefaultVersion' as Ec2Sdk.LaunchTemplateErrorCode,
          Message: 'Cannot delete the default version of a launch template.',
        },
      });
    } else {
      delete lt.versions[String(n)];
      ok.push(base);
    }
  }
  return {
    SuccessfullyDeletedLaunchTemplateVersions: ok,
    UnsuccessfullyDeletedLaunchTemplateVersions: failed,
  };
};

export const launchTemplateOperations = {
  CreateLaunchTemplate: createLaunchTemplate,
  CreateLaunchTemplateVersion: createLaunchTemplateVersion,
  ModifyLaunchTemplate: modifyLaunchTemplate,
  DescribeLaunchTemplates: describeLaunchTemplates,
  DescribeLaunchTemplateVersions: describeLaunchTemplateVersions,
  DeleteLaunchTemplate: deleteLaunchTemplate,
  DeleteLaunchTemplateVersions: deleteLaunchTemplateVersions,
} satisfies OperationsOf<typeof Ec2Sdk>;
