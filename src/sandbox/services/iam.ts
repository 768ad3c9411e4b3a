// Simulated IAM (global): roles with inline and attached policies, instance profiles, tags, the
// propagation delay after which EC2 and Auto Scaling accept a new instance profile, and the policy
// simulator for the caller (every action allowed but those of the behaviour knob deniedActions).
import { awsError, required } from '../errors';
import type { SandboxContext } from '../account';
import { sandboxCallerArn } from './sts';
import type * as IamSdk from '@aws-sdk/client-iam';
import type { HandlerOf, InventoryItem, OperationsOf, SdkOperation, ServiceModule } from '../service';

type Handler<Op extends SdkOperation<typeof IamSdk>> = HandlerOf<typeof IamSdk, Op>;

interface Tag {
  Key: string;
  Value: string;
}

interface Role {
  RoleName: string;
  RoleId: string;
  Path: string;
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  createdAt: number;
  Tags: Tag[];
  inlinePolicies: Record<string, string>;
  attachedPolicyArns: string[];
}

interface InstanceProfile {
  InstanceProfileName: string;
  InstanceProfileId: string;
  Path: string;
  createdAt: number;
  Tags: Tag[];
  roleNames: string[];
}

interface IamState {
  roles: Record<string, Role>;
  instanceProfiles: Record<string, InstanceProfile>;
}

const PAGE_SIZE = 5;

function iamState(ctx: SandboxContext): IamState {
  return ctx.sb.serviceState<IamState>('iam', ctx.region, () => ({ roles: {}, instanceProfiles: {} }));
}

function accountId(ctx: SandboxContext): string {
  return ctx.sb.state.accountId;
}

function roleArn(ctx: SandboxContext, r: Role): string {
  return `arn:aws:iam::${accountId(ctx)}:role${r.Path}${r.RoleName}`;
}

function profileArn(ctx: SandboxContext, p: InstanceProfile): string {
  return `arn:aws:iam::${accountId(ctx)}:instance-profile${p.Path}${p.InstanceProfileName}`;
}

/** IAM ids: a four-letter prefix per kind and 17 upper-case alphanumerics. */
function iamId(ctx: SandboxContext, prefix: string): string {
  return prefix + ctx.sb.newId('', 17).toUpperCase();
}

function validateName(name: string, kind: string, max: number): void {
  if (name.length > max) {
    throw awsError(
      'ValidationError',
      `1 validation error detected: Value '${name}' at '${kind}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  if (!/^[\w+=,.@-]+$/.test(name)) {
    throw awsError(
      'ValidationError',
      `1 validation error detected: Value '${name}' at '${kind}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
    );
  }
}

function validatePath(path: string): void {
  if (!/^\/([\x21-\x7e]*\/)?$/.test(path) || path.length > 512) {
    throw awsError(
      'ValidationError',
      `The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`,
    );
  }
}

function validatePolicyDocument(doc: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeURIComponent(doc));
  } catch {
    try {
      parsed = JSON.parse(doc);
    } catch {
      throw awsError('MalformedPolicyDocument', 'This policy contains invalid Json');
    }
  }
  if (!parsed || typeof parsed !== 'object' || !('Statement' in (parsed as object))) {
    throw awsError('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
}

function validateTags(tags: { Key?: string; Value?: string }[] | undefined): Tag[] {
  const list = (tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
  if (list.length > 50) throw awsError('LimitExceeded', 'Cannot exceed quota for TagsPerRole: 50.');
  for (const t of list) {
    if (!t.Key) throw awsError('ValidationError', 'Tag keys must not be empty.');
    if (t.Key.toLowerCase().startsWith('aws:'))
      throw awsError('InvalidInput', 'Tag keys beginning with aws: are reserved.');
  }
  return list;
}

function mergeTags(existing: Tag[], add: Tag[]): Tag[] {
  const out = existing.map((t) => ({ ...t }));
  for (const t of add) {
    const found = out.find((x) => x.Key === t.Key);
    if (found) found.Value = t.Value;
    else out.push(t);
  }
  if (out.length > 50) throw awsError('LimitExceeded', 'Cannot exceed quota for TagsPerRole: 50.');
  return out;
}

function getRole(ctx: SandboxContext, name: string | undefined): Role {
  const roleName = required(name, 'RoleName', 'ValidationError');
  const r = iamState(ctx).roles[roleName];
  if (!r) throw awsError('NoSuchEntity', `The role with name ${roleName} cannot be found.`);
  return r;
}

function getProfile(ctx: SandboxContext, name: string | undefined): InstanceProfile {
  const profileName = required(name, 'InstanceProfileName', 'ValidationError');
  const p = iamState(ctx).instanceProfiles[profileName];
  if (!p) throw awsError('NoSuchEntity', `Instance Profile ${profileName} cannot be found.`);
  return p;
}

function roleOutput(ctx: SandboxContext, r: Role): IamSdk.Role {
  return {
    RoleName: r.RoleName,
    RoleId: r.RoleId,
    Path: r.Path,
    Arn: roleArn(ctx, r),
    CreateDate: new Date(r.createdAt),
    // IAM returns the trust policy URL-encoded; the SDK does not decode it.
    AssumeRolePolicyDocument: encodeURIComponent(r.AssumeRolePolicyDocument),
    Description: r.Description,
    MaxSessionDuration: r.MaxSessionDuration,
    Tags: r.Tags.length ? r.Tags : undefined,
  };
}

function profileOutput(ctx: SandboxContext, p: InstanceProfile): IamSdk.InstanceProfile {
  const roles = iamState(ctx).roles;
  return {
    InstanceProfileName: p.InstanceProfileName,
    InstanceProfileId: p.InstanceProfileId,
    Path: p.Path,
    Arn: profileArn(ctx, p),
    CreateDate: new Date(p.createdAt),
    Roles: p.roleNames.filter((n) => roles[n]).map((n) => roleOutput(ctx, roles[n])),
    Tags: p.Tags.length ? p.Tags : undefined,
  };
}

/** IAM's Marker/IsTruncated pagination. */
function page<T>(
  items: T[],
  marker: string | undefined,
  maxItems: number | undefined,
): { items: T[]; IsTruncated: boolean; Marker?: string } {
  let start = 0;
  if (marker) {
    const m = /^sbmarker-(\d+)$/.exec(marker);
    if (!m || Number(m[1]) > items.length) throw awsError('ValidationError', `Invalid Marker: ${marker}`);
    start = Number(m[1]);
  }
  const size = Math.max(1, Math.min(maxItems ?? PAGE_SIZE, PAGE_SIZE));
  const slice = items.slice(start, start + size);
  const end = start + slice.length;
  return end < items.length
    ? { items: slice, IsTruncated: true, Marker: `sbmarker-${end}` }
    : { items: slice, IsTruncated: false };
}

const createRole: Handler<'CreateRole'> = (ctx, input) => {
  const name = required<string>(input.RoleName, 'RoleName', 'ValidationError');
  validateName(name, 'roleName', 64);
  const doc = required<string>(input.AssumeRolePolicyDocument, 'AssumeRolePolicyDocument', 'ValidationError');
  validatePolicyDocument(doc);
  const path: string = input.Path ?? '/';
  validatePath(path);
  const s = iamState(ctx);
  if (s.roles[name]) throw awsError('EntityAlreadyExists', `Role with name ${name} already exists.`);
  const role: Role = {
    RoleName: name,
    RoleId: iamId(ctx, 'AROA'),
    Path: path,
    AssumeRolePolicyDocument: doc,
    Description: input.Description,
    MaxSessionDuration: input.MaxSessionDuration ?? 3600,
    createdAt: ctx.now,
    Tags: validateTags(input.Tags),
    inlinePolicies: {},
    attachedPolicyArns: [],
  };
  s.roles[name] = role;
  return { Role: roleOutput(ctx, role) };
};

const getRoleOp: Handler<'GetRole'> = (ctx, input) => ({ Role: roleOutput(ctx, getRole(ctx, input.RoleName)) });

const deleteRole: Handler<'DeleteRole'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const s = iamState(ctx);
  if (Object.keys(r.inlinePolicies).length || r.attachedPolicyArns.length) {
    throw awsError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
  }
  if (Object.values(s.instanceProfiles).some((p) => p.roleNames.includes(r.RoleName))) {
    throw awsError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.');
  }
  delete s.roles[r.RoleName];
  return {};
};

const updateAssumeRolePolicy: Handler<'UpdateAssumeRolePolicy'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const doc = required<string>(input.PolicyDocument, 'PolicyDocument', 'ValidationError');
  validatePolicyDocument(doc);
  r.AssumeRolePolicyDocument = doc;
  return {};
};

const putRolePolicy: Handler<'PutRolePolicy'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const name = required<string>(input.PolicyName, 'PolicyName', 'ValidationError');
  validateName(name, 'policyName', 128);
  const doc = required<string>(input.PolicyDocument, 'PolicyDocument', 'ValidationError');
  validatePolicyDocument(doc);
  r.inlinePolicies[name] = doc;
  return {};
};

const getRolePolicy: Handler<'GetRolePolicy'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const name = required<string>(input.PolicyName, 'PolicyName', 'ValidationError');
  const doc = r.inlinePolicies[name];
  if (doc === undefined) throw awsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`);
  return { RoleName: r.RoleName, PolicyName: name, PolicyDocument: encodeURIComponent(doc) };
};

const deleteRolePolicy: Handler<'DeleteRolePolicy'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const name = required<string>(input.PolicyName, 'PolicyName', 'ValidationError');
  if (r.inlinePolicies[name] === undefined)
    throw awsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`);
  delete r.inlinePolicies[name];
  return {};
};

const listRolePolicies: Handler<'ListRolePolicies'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const p = page(Object.keys(r.inlinePolicies).sort(), input.Marker, input.MaxItems);
  return { PolicyNames: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
};

const attachRolePolicy: Handler<'AttachRolePolicy'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const arn = required<string>(input.PolicyArn, 'PolicyArn', 'ValidationError');
  if (!/^arn:aws:iam::(aws|\d{12}):policy\/.+/.test(arn))
    throw awsError('InvalidInput', `ARN ${arn} is not valid.`);
  if (!r.attachedPolicyArns.includes(arn)) r.attachedPolicyArns.push(arn);
  return {};
};

const detachRolePolicy: Handler<'DetachRolePolicy'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const arn = required<string>(input.PolicyArn, 'PolicyArn', 'ValidationError');
  if (!r.attachedPolicyArns.includes(arn)) throw awsError('NoSuchEntity', `Policy ${arn} was not found.`);
  r.attachedPolicyArns = r.attachedPolicyArns.filter((a) => a !== arn);
  return {};
};

const listAttachedRolePolicies: Handler<'ListAttachedRolePolicies'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const p = page(
    r.attachedPolicyArns.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
    input.Marker,
    input.MaxItems,
  );
  return { AttachedPolicies: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
};

const tagRole: Handler<'TagRole'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  r.Tags = mergeTags(r.Tags, validateTags(required(input.Tags, 'Tags', 'ValidationError')));
  return {};
};

const untagRole: Handler<'UntagRole'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const keys: string[] = required(input.TagKeys, 'TagKeys', 'ValidationError');
  r.Tags = r.Tags.filter((t) => !keys.includes(t.Key));
  return {};
};

const listRoleTags: Handler<'ListRoleTags'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  const p = page(r.Tags, input.Marker, input.MaxItems);
  return { Tags: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
};

const listRoles: Handler<'ListRoles'> = (ctx, input) => {
  const prefix: string = input.PathPrefix ?? '/';
  const roles = Object.values(iamState(ctx).roles)
    .filter((r) => r.Path.startsWith(prefix))
    .sort((a, b) => a.RoleName.localeCompare(b.RoleName));
  const p = page(roles, input.Marker, input.MaxItems);
  // ListRoles leaves tags out, as AWS does.
  return {
    Roles: p.items.map((r) => ({ ...roleOutput(ctx, r), Tags: undefined })),
    IsTruncated: p.IsTruncated,
    Marker: p.Marker,
  };
};

const createInstanceProfile: Handler<'CreateInstanceProfile'> = (ctx, input) => {
  const name = required<string>(input.InstanceProfileName, 'InstanceProfileName', 'ValidationError');
  validateName(name, 'instanceProfileName', 128);
  const path: string = input.Path ?? '/';
  validatePath(path);
  const s = iamState(ctx);
  if (s.instanceProfiles[name])
    throw awsError('EntityAlreadyExists', `Instance Profile ${name} already exists.`);
  const profile: InstanceProfile = {
    InstanceProfileName: name,
    InstanceProfileId: iamId(ctx, 'AIPA'),
    Path: path,
    createdAt: ctx.now,
    Tags: validateTags(input.Tags),
    roleNames: [],
  };
  s.instanceProfiles[name] = profile;
  return { InstanceProfile: profileOutput(ctx, profile) };
};

const getInstanceProfile: Handler<'GetInstanceProfile'> = (ctx, input) => ({
  InstanceProfile: profileOutput(ctx, getProfile(ctx, input.InstanceProfileName)),
});

const deleteInstanceProfile: Handler<'DeleteInstanceProfile'> = (ctx, input) => {
  const p = getProfile(ctx, input.InstanceProfileName);
  if (p.roleNames.length)
    throw awsError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.');
  delete iamState(ctx).instanceProfiles[p.InstanceProfileName];
  return {};
};

const addRoleToInstanceProfile: Handler<'AddRoleToInstanceProfile'> = (ctx, input) => {
  const p = getProfile(ctx, input.InstanceProfileName);
  const r = getRole(ctx, input.RoleName);
  if (p.roleNames.length >= 1) {
    throw awsError('LimitExceeded', 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
  }
  p.roleNames.push(r.RoleName);
  return {};
};

const removeRoleFromInstanceProfile: Handler<'RemoveRoleFromInstanceProfile'> = (ctx, input) => {
  const p = getProfile(ctx, input.InstanceProfileName);
  const roleName = required<string>(input.RoleName, 'RoleName', 'ValidationError');
  if (!p.roleNames.includes(roleName)) {
    throw awsError(
      'NoSuchEntity',
      `The role with name ${roleName} cannot be found in instance profile ${p.InstanceProfileName}.`,
    );
  }
  p.roleNames = p.roleNames.filter((n) => n !== roleName);
  return {};
};

/** One page of the instance profiles that `matches` selects, by name (ListInstanceProfiles' output shape). */
function instanceProfilePage(
  ctx: SandboxContext,
  input: { Marker?: string; MaxItems?: number },
  matches: (p: InstanceProfile) => boolean,
): Omit<IamSdk.ListInstanceProfilesCommandOutput, '$metadata'> {
  const profiles = Object.values(iamState(ctx).instanceProfiles)
    .filter(matches)
    .sort((a, b) => a.InstanceProfileName.localeCompare(b.InstanceProfileName));
  const p = page(profiles, input.Marker, input.MaxItems);
  return {
    InstanceProfiles: p.items.map((x) => profileOutput(ctx, x)),
    IsTruncated: p.IsTruncated,
    Marker: p.Marker,
  };
}

const listInstanceProfilesForRole: Handler<'ListInstanceProfilesForRole'> = (ctx, input) => {
  const r = getRole(ctx, input.RoleName);
  return instanceProfilePage(ctx, input, (p) => p.roleNames.includes(r.RoleName));
};

const listInstanceProfiles: Handler<'ListInstanceProfiles'> = (ctx, input) => {
  const prefix: string = input.PathPrefix ?? '/';
  return instanceProfilePage(ctx, input, (p) => p.Path.startsWith(prefix));
};

const tagInstanceProfile: Handler<'TagInstanceProfile'> = (ctx, input) => {
  const p = getProfile(ctx, input.InstanceProfileName);
  p.Tags = mergeTags(p.Tags, validateTags(required(input.Tags, 'Tags', 'ValidationError')));
  return {};
};

const listInstanceProfileTags: Handler<'ListInstanceProfileTags'> = (ctx, input) => {
  const p = getProfile(ctx, input.InstanceProfileName);
  const pg = page(p.Tags, input.Marker, input.MaxItems);
  return { Tags: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
};

/** True when `action` (`ec2:RunInstances`) is named by a pattern of `denied` (`ec2:RunInstances`, `ec2:*`, `*`); case-insensitive, as IAM compares actions. */
function isDenied(denied: string[], action: string): boolean {
  const a = action.toLowerCase();
  return denied.some((pattern) => {
    const p = pattern.toLowerCase();
    return p === '*' || p === a || (p.endsWith('*') && a.startsWith(p.slice(0, -1)));
  });
}

const SIMULATION_PAGE_SIZE = 20;

/**
 * SimulatePrincipalPolicy for the sandbox's caller (or a role of the account): one result per action
 * and resource, `allowed` unless behavior.deniedActions names the action (`implicitDeny`: no policy
 * allows it). Marker/IsTruncated pages of 20.
 */
const simulatePrincipalPolicy: Handler<'SimulatePrincipalPolicy'> = (ctx, input) => {
  const source = required<string>(input.PolicySourceArn, 'PolicySourceArn', 'InvalidInput');
  const actions = required<string[]>(input.ActionNames, 'ActionNames', 'InvalidInput');
  if (actions.length === 0) throw awsError('InvalidInput', 'ActionNames must contain at least one action.');
  for (const a of actions) {
    if (!/^[\w-]+:[\w*]+$/.test(a)) throw awsError('InvalidInput', `Invalid action name: ${a}`);
  }
  const roleName = /^arn:aws:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(source)?.[1];
  if (source !== sandboxCallerArn(ctx) && !(roleName && iamState(ctx).roles[roleName])) {
    throw awsError('NoSuchEntity', `The principal ${source} cannot be found.`);
  }
  const resources: string[] = input.ResourceArns?.length ? input.ResourceArns : ['*'];
  const denied = ctx.sb.behavior.deniedActions ?? [];
  const results = actions.flatMap((action) =>
    resources.map((resource) => {
      const decision: IamSdk.PolicyEvaluationDecisionType = isDenied(denied, action) ? 'implicitDeny' : 'allowed';
      return {
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: decision,
        MatchedStatements: decision === 'allowed' ? [{ SourcePolicyId: 'sandbox-caller', SourcePolicyType: 'user' as const }] : [],
        MissingContextValues: [],
      };
    }),
  );
  let start = 0;
  if (input.Marker) {
    const m = /^sbmarker-(\d+)$/.exec(input.Marker);
    if (!m || Number(m[1]) > results.length) throw awsError('ValidationError', `Invalid Marker: ${input.Marker}`);
    start = Number(m[1]);
  }
  const size = Math.max(1, Math.min(input.MaxItems ?? SIMULATION_PAGE_SIZE, SIMULATION_PAGE_SIZE));
  const page = results.slice(start, start + size);
  const end = start + page.length;
  return end < results.length
    ? { EvaluationResults: page, IsTruncated: true, Marker: `sbmarker-${end}` }
    : { EvaluationResults: page, IsTruncated: false };
};

/**
 * Whether EC2 / Auto Scaling accept this instance profile (ARN or name) now: it exists
 * and was created more than `timings.iamPropagationMs` ago (IAM is eventually consistent).
 */
export function isInstanceProfileUsable(ctx: SandboxContext, arnOrName: string): boolean {
  const name = arnOrName.startsWith('arn:') ? (arnOrName.split('/').pop() ?? '') : arnOrName;
  const p = iamState(ctx).instanceProfiles[name];
  if (!p) return false;
  if (arnOrName.startsWith('arn:') && arnOrName !== profileArn(ctx, p)) return false;
  return ctx.now - p.createdAt >= ctx.sb.behavior.timings.iamPropagationMs;
}

/** The ARN of an instance profile given by ARN or name (for instance descriptions), if it exists. */
export function instanceProfileArn(ctx: SandboxContext, arnOrName: string): string | undefined {
  const name = arnOrName.startsWith('arn:') ? (arnOrName.split('/').pop() ?? '') : arnOrName;
  const p = iamState(ctx).instanceProfiles[name];
  return p ? profileArn(ctx, p) : undefined;
}

export const iamModule: ServiceModule = {
  service: 'iam',
  operations: {
    CreateRole: createRole,
    GetRole: getRoleOp,
    DeleteRole: deleteRole,
    UpdateAssumeRolePolicy: updateAssumeRolePolicy,
    PutRolePolicy: putRolePolicy,
    GetRolePolicy: getRolePolicy,
    DeleteRolePolicy: deleteRolePolicy,
    ListRolePolicies: listRolePolicies,
    AttachRolePolicy: attachRolePolicy,
    DetachRolePolicy: detachRolePolicy,
    ListAttachedRolePolicies: listAttachedRolePolicies,
    TagRole: tagRole,
    UntagRole: untagRole,
    ListRoleTags: listRoleTags,
    ListRoles: listRoles,
    CreateInstanceProfile: createInstanceProfile,
    GetInstanceProfile: getInstanceProfile,
    DeleteInstanceProfile: deleteInstanceProfile,
    AddRoleToInstanceProfile: addRoleToInstanceProfile,
    RemoveRoleFromInstanceProfile: removeRoleFromInstanceProfile,
    ListInstanceProfilesForRole: listInstanceProfilesForRole,
    ListInstanceProfiles: listInstanceProfiles,
    TagInstanceProfile: tagInstanceProfile,
    ListInstanceProfileTags: listInstanceProfileTags,
    SimulatePrincipalPolicy: simulatePrincipalPolicy,
  } satisfies OperationsOf<typeof IamSdk>,
  inventory(ctx): InventoryItem[] {
    const s = iamState(ctx);
    return [
      ...Object.values(s.roles).map((r) => ({
        type: 'AWS::IAM::Role',
        id: r.RoleName,
        fingerprint: `inline=${Object.keys(r.inlinePolicies).sort().join('+')};attached=${[...r.attachedPolicyArns].sort().join('+')}`,
      })),
      ...Object.values(s.instanceProfiles).map((p) => ({
        type: 'AWS::IAM::InstanceProfile',
        id: p.InstanceProfileName,
        fingerprint: `roles=${p.roleNames.join('+')}`,
      })),
    ];
  },
};
