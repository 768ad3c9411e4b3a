// The instance roles' permissions under real IAM policy evaluation (@cloud-copilot/iam-simulate; AGPL-3.0,
// a devDependency used by this test only, never shipped). Evaluated are the exact documents k3sctl puts on
// the roles — as iamRole.ts builds them, and as read back from the roles `cluster create` made in the
// sandbox and in moto — together with every managed policy attached to them (README.md, Security: no node
// principal can read the server token by any read action, managed policies included). Also: a cluster made
// by an earlier version converges (managed policy detached), a re-run writes nothing, rollback restores.
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { isReadOperation } from '../../src/aws/apiCalls';
import { AwsClients } from '../../src/aws/clients';
import { TagKeys } from '../../src/aws/tags';
import { buildClusterSpec } from '../../src/config/cluster';
import { names } from '../../src/aws/names';
import { runWorkflow, type Task } from '../../src/orchestration/engine';
import type { WorkflowDeps } from '../../src/orchestration/deps';
import { clusterCreate } from '../../src/orchestration/workflows/clusterCreate';
import {
  iamRoleTask,
  instanceRolePolicies,
  NODE_SERVER_TOKEN_DENY_POLICY_NAME,
  SSM_AGENT_POLICY_NAME,
  SSM_MANAGED_INSTANCE_CORE,
  ssmAgentPolicy,
  type IamRoleSpec,
  type InstanceRoleScope,
  type RoleAccount,
} from '../../src/resources/iamRole';
import { systemClock } from '../../src/core/clock';
import { Sandbox } from '../../src/sandbox/sandbox';
import { emulatorSkipped, MOTO_CREDENTIALS, MOTO_REGION, useMoto } from '../helpers/moto';
import { collectingEvents, removeTestHomes, sandboxDeps, testHome, testProviders as providers, testRunId } from '../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

type Role = 'control-plane' | 'node';
const ROLES: Role[] = ['control-plane', 'node'];
const REGION = 'us-east-1';
const CLUSTER = 'alpha';
/** Other clusters of the account; `alpha-x` shares `alpha`'s name prefix (k3sctl-alpha-*). */
const OTHER_CLUSTERS = ['bravo', 'alpha-x'];
const TOKENS = ['server-token', 'agent-token'] as const;
const INSTANCE_ID = 'i-0123456789abcdef0';

/**
 * Documents of the managed policies a role may have attached, by policy name. AmazonSSMManagedInstanceCore
 * (default version v2) as moto ships it (moto/iam/aws_managed_policies.py), the document AWS publishes.
 */
const MANAGED_POLICY_DOCUMENTS: Record<
  string,
  { Version: string; Statement: { Effect: string; Action: string[]; Resource: string }[] }
> = {
  AmazonSSMManagedInstanceCore: {
    Version: '2012-10-17',
    Statement: [
      {
        Action: [
          'ssm:DescribeAssociation',
          'ssm:GetDeployablePatchSnapshotForInstance',
          'ssm:GetDocument',
          'ssm:DescribeDocument',
          'ssm:GetManifest',
          'ssm:GetParameter',
          'ssm:GetParameters',
          'ssm:ListAssociations',
          'ssm:ListInstanceAssociations',
          'ssm:PutInventory',
          'ssm:PutComplianceItems',
          'ssm:PutConfigurePackageResult',
          'ssm:UpdateAssociationStatus',
          'ssm:UpdateInstanceAssociationStatus',
          'ssm:UpdateInstanceInformation',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
      {
        Action: [
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
      {
        Action: [
          'ec2messages:AcknowledgeMessage',
          'ec2messages:DeleteMessage',
          'ec2messages:FailMessage',
          'ec2messages:GetEndpoint',
          'ec2messages:GetMessages',
          'ec2messages:SendReply',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
    ],
  },
};

/** Everything attached to one role: inline documents by name and managed policy ARNs. */
interface RolePolicies {
  roleName: string;
  account: RoleAccount;
  inline: Record<string, object>;
  managed: string[];
}

function scopeOf(cluster: string): InstanceRoleScope {
  return {
    cluster,
    region: REGION,
    serverToken: names.ssmServerToken(cluster),
    agentToken: names.ssmAgentToken(cluster),
    initialized: names.ssmInitialized(cluster),
    bootstrapFailures: names.ssmBootstrapFailures(cluster),
  };
}

function roleName(role: Role): string {
  return role === 'control-plane' ? names.controlPlaneRole(CLUSTER, REGION) : names.nodeRole(CLUSTER, REGION);
}

/** The documents iamRole.ts builds for a role of `alpha` in an account. */
function builtPolicies(role: Role, account: RoleAccount): RolePolicies {
  const inline = Object.fromEntries(
    Object.entries(instanceRolePolicies(role, scopeOf(CLUSTER))).map(([name, build]) => [
      name,
      build(account),
    ]),
  );
  return { roleName: roleName(role), account, inline, managed: [] };
}

/** The documents an existing role carries, read back through IAM. */
async function attachedPolicies(clients: AwsClients, name: string): Promise<RolePolicies> {
  const role = (await clients.iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
  const [, partition, , , accountId] = role.Arn!.split(':');
  const inline: Record<string, object> = {};
  for (const PolicyName of (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: name })))
    .PolicyNames ?? []) {
    const doc = (await clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName })))
      .PolicyDocument!;
    inline[PolicyName] = JSON.parse(decodeURIComponent(doc));
  }
  const managed = (
    (await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? []
  ).map((p) => p.PolicyArn!);
  return { roleName: name, account: { partition, accountId }, inline, managed };
}

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** One request evaluated against every identity policy of the role (no SCPs, no resource policy). */
async function decide(
  policies: RolePolicies,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<Decision> {
  const identityPolicies = [
    ...Object.entries(policies.inline).map(([name, policy]) => ({ name, policy })),
    ...policies.managed.map((arn) => {
      const name = arn.split('/').pop()!;
      const policy = MANAGED_POLICY_DOCUMENTS[name];
      if (!policy)
        throw new Error(
          `managed policy ${arn} is attached but this test has no document for it: add it to MANAGED_POLICY_DOCUMENTS`,
        );
      return { name, policy };
    }),
  ];
  const simulation: Simulation = {
    request: {
      principal: `arn:${policies.account.partition}:sts::${policies.account.accountId}:assumed-role/${policies.roleName}/${INSTANCE_ID}`,
      action,
      resource: { resource, accountId: policies.account.accountId },
      contextVariables: context,
    },
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  // The root path's ARN (`...:parameter/`) has an empty parameter name, which iam-data's ARN pattern for
  // ssm `parameter` refuses; the evaluation itself is the same, only the input validation is skipped.
  if (resource.endsWith(':parameter/')) return runUnsafeSimulation(simulation, {});
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error')
    throw new Error(
      `${action} on ${resource}: the simulator refused the request: ${JSON.stringify(result.errors)}`,
    );
  return result.overallResult;
}

/** What a case expects: allowed, refused by an explicit Deny, or simply not allowed (explicit or implicit). */
type Expected = 'allowed' | 'explicit-deny' | 'not-allowed';

interface Case {
  label: string;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  expected: Expected;
}

function parameterArn(account: RoleAccount, name: string): string {
  return `arn:${account.partition}:ssm:${REGION}:${account.accountId}:parameter${name}`;
}

/**
 * Every way to read one token: by name (3 actions), and by each path that contains it, recursively, as
 * written and with a trailing slash; the direct parent also not recursively.
 */
function tokenReads(account: RoleAccount, cluster: string, token: (typeof TOKENS)[number]) {
  const name = `${names.ssmPrefix(cluster)}/${token}`;
  const parents = ['/', '/k3sctl', '/k3sctl/clusters', `/k3sctl/clusters/${cluster}`];
  expect(name.startsWith(`${parents[parents.length - 1]}/`)).toBe(true);
  const byPath = (path: string, recursive: boolean) => ({
    read: `ssm:GetParametersByPath ${path}${recursive ? ' recursive' : ''}`,
    action: 'ssm:GetParametersByPath',
    resource: parameterArn(account, path),
    context: { 'ssm:Recursive': String(recursive) },
  });
  return [
    ...['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory'].map((action) => ({
      read: action,
      action,
      resource: parameterArn(account, name),
      context: {},
    })),
    ...parents.map((path) => byPath(path, true)),
    ...parents.slice(1).map((path) => byPath(`${path}/`, true)),
    byPath(parents[parents.length - 1], false),
  ];
}

/** Token reads: a node never reads the server token (explicit Deny), control planes read both of their own cluster, nobody another cluster's. */
function tokenCases(role: Role, account: RoleAccount): Case[] {
  const cases: Case[] = [];
  for (const cluster of [CLUSTER, ...OTHER_CLUSTERS]) {
    for (const token of TOKENS) {
      for (const r of tokenReads(account, cluster, token)) {
        let expected: Expected = 'not-allowed';
        if (cluster === CLUSTER && role === 'node' && token === 'server-token') expected = 'explicit-deny';
        else if (
          cluster === CLUSTER &&
          role === 'node' &&
          token === 'agent-token' &&
          r.action === 'ssm:GetParameter'
        )
          expected = 'allowed';
        else if (
          cluster === CLUSTER &&
          role === 'control-plane' &&
          ['ssm:GetParameter', 'ssm:GetParameters'].includes(r.action)
        )
          expected = 'allowed';
        cases.push({
          label: `${r.read} ${cluster}/${token}`,
          action: r.action,
          resource: r.resource,
          context: r.context,
          expected,
        });
      }
    }
  }
  return cases;
}

/** SetInstanceHealth: only on the groups of the own cluster and the own role, decided by their tags. */
function instanceHealthCases(role: Role, account: RoleAccount): Case[] {
  const group = (
    cluster: string,
    groupName: string,
    tags: Record<string, string>,
  ): Omit<Case, 'label' | 'expected'> => ({
    action: 'autoscaling:SetInstanceHealth',
    resource: `arn:${account.partition}:autoscaling:${REGION}:${account.accountId}:autoScalingGroup:6d6b2b3c-1c1f-4b0e-9d5e-0a1b2c3d4e5f:autoScalingGroupName/${names.autoScalingGroup(cluster, groupName)}`,
    // Auto Scaling supplies a group's tags under both keys (Service Authorization Reference).
    context: Object.fromEntries(
      Object.entries(tags).flatMap(([k, v]) => [
        [`autoscaling:ResourceTag/${k}`, v],
        [`aws:ResourceTag/${k}`, v],
      ]),
    ),
  });
  const own = role === 'control-plane' ? 'control-plane' : 'nodes';
  const otherRole: Role = role === 'control-plane' ? 'node' : 'control-plane';
  const other = role === 'control-plane' ? 'nodes' : 'control-plane';
  return [
    {
      label: `own ${own} group`,
      ...group(CLUSTER, own, { [TagKeys.cluster]: CLUSTER, [TagKeys.role]: role }),
      expected: 'allowed',
    },
    {
      label: `own cluster's ${other} group`,
      ...group(CLUSTER, other, { [TagKeys.cluster]: CLUSTER, [TagKeys.role]: otherRole }),
      expected: 'not-allowed',
    },
    {
      label: 'group of cluster bravo',
      ...group('bravo', own, { [TagKeys.cluster]: 'bravo', [TagKeys.role]: role }),
      expected: 'not-allowed',
    },
    {
      label: 'group of cluster alpha-x (same name prefix)',
      ...group('alpha-x', own, { [TagKeys.cluster]: 'alpha-x', [TagKeys.role]: role }),
      expected: 'not-allowed',
    },
    { label: 'untagged group with the own name', ...group(CLUSTER, own, {}), expected: 'not-allowed' },
  ];
}

/** PutParameter: bootstrap-failure records of the own cluster (both roles), `initialized` (control planes), nothing else. */
function putParameterCases(role: Role, account: RoleAccount): Case[] {
  const put = (name: string, expected: Expected): Case => ({
    label: `put ${name}`,
    action: 'ssm:PutParameter',
    resource: parameterArn(account, name),
    expected,
  });
  return [
    put(`${names.ssmBootstrapFailures(CLUSTER)}/${INSTANCE_ID}`, 'allowed'),
    put(`${names.ssmBootstrapFailures('bravo')}/${INSTANCE_ID}`, 'not-allowed'),
    put(`${names.ssmBootstrapFailures('alpha-x')}/${INSTANCE_ID}`, 'not-allowed'),
    put(names.ssmInitialized(CLUSTER), role === 'control-plane' ? 'allowed' : 'not-allowed'),
    put(names.ssmServerToken(CLUSTER), 'not-allowed'),
    put(names.ssmAgentToken(CLUSTER), 'not-allowed'),
    put(names.ssmConfig(CLUSTER), 'not-allowed'),
  ];
}

/** The agent's own actions, minus parameter reads: what Run Command (kubeconfig, readiness) and Session Manager need. */
const AGENT_ACTIONS = MANAGED_POLICY_DOCUMENTS.AmazonSSMManagedInstanceCore.Statement.flatMap(
  (s) => s.Action,
).filter((a) => a !== 'ssm:GetParameter' && a !== 'ssm:GetParameters');

function agentCases(account: RoleAccount): Case[] {
  const instance = `arn:${account.partition}:ec2:${REGION}:${account.accountId}:instance/${INSTANCE_ID}`;
  const document = `arn:${account.partition}:ssm:${REGION}:${account.accountId}:document/AWS-RunShellScript`;
  const association = `arn:${account.partition}:ssm:${REGION}:${account.accountId}:association/0b6f2a4e-3c8d-4e5f-9a1b-2c3d4e5f6a7b`;
  const resourceOf: Record<string, string> = {
    'ssm:UpdateInstanceInformation': instance,
    'ssm:ListInstanceAssociations': instance,
    'ssm:PutComplianceItems': instance,
    'ssm:GetDocument': document,
    'ssm:DescribeDocument': document,
    'ssm:UpdateAssociationStatus': document,
    'ssm:DescribeAssociation': association,
    'ssm:UpdateInstanceAssociationStatus': association,
  };
  return AGENT_ACTIONS.map((action) => ({
    label: `agent ${action}`,
    action,
    resource: resourceOf[action] ?? '*',
    expected: 'allowed' as const,
  }));
}

function allCases(role: Role, account: RoleAccount): Case[] {
  return [
    ...tokenCases(role, account),
    ...instanceHealthCases(role, account),
    ...putParameterCases(role, account),
    ...agentCases(account),
  ];
}

/** Evaluates every case; returns the ones whose decision differs from what is expected. */
async function mismatches(policies: RolePolicies, cases: Case[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of cases) {
    const decision = await decide(policies, c.action, c.resource, c.context);
    const ok =
      c.expected === 'allowed'
        ? decision === 'Allowed'
        : c.expected === 'explicit-deny'
          ? decision === 'ExplicitlyDenied'
          : decision !== 'Allowed';
    if (!ok) out.push(`${c.label}: expected ${c.expected}, got ${decision}`);
  }
  return out;
}

const evaluated: Record<string, number> = {};

afterAll(() => {
  const total = Object.values(evaluated).reduce((a, b) => a + b, 0);
  process.stderr.write(
    `iamPolicy: ${total} requests evaluated (${Object.entries(evaluated)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')})\n`,
  );
});

async function expectMatrix(source: string, role: Role, policies: RolePolicies): Promise<void> {
  const cases = allCases(role, policies.account);
  evaluated[`${source} ${role}`] = cases.length;
  expect(await mismatches(policies, cases)).toEqual([]);
}

describe('instance role policies as iamRole.ts builds them', () => {
  const account = { partition: 'aws', accountId: '123456789012' };

  it.each(ROLES)(
    '%s: token reads, SetInstanceHealth, PutParameter and the SSM agent evaluate as intended',
    async (role) => {
      await expectMatrix('built', role, builtPolicies(role, account));
    },
  );

  it('the ssm-agent policy holds exactly the actions of AmazonSSMManagedInstanceCore minus its parameter reads', () => {
    const actions = ssmAgentPolicy(account).Statement.flatMap((s) => s.Action);
    expect([...actions].sort()).toEqual([...AGENT_ACTIONS].sort());
    expect(actions).not.toContain('ssm:GetParameter');
    expect(actions).not.toContain('ssm:GetParameters');
  });

  it('shares no inline document between clusters and names every policy k3sctl-*', () => {
    for (const role of ROLES) {
      const alpha = builtPolicies(role, account).inline;
      expect(Object.keys(alpha).every((n) => n.startsWith('k3sctl-'))).toBe(true);
      for (const [name, doc] of Object.entries(alpha)) {
        if (name === SSM_AGENT_POLICY_NAME) continue;
        expect(JSON.stringify(doc)).not.toMatch(/bravo/);
        expect(JSON.stringify(doc)).toContain('/k3sctl/clusters/alpha/');
      }
    }
  });
});

function clusterSpec(cluster = CLUSTER) {
  return buildClusterSpec({ name: cluster, region: REGION, sshCidrs: ['203.0.113.0/24'] });
}

describe('instance roles made by cluster create (sandbox)', () => {
  const sb = new Sandbox();
  let home: string;

  beforeAll(async () => {
    const first = sandboxDeps(sb);
    home = first.home;
    await clusterCreate(first.deps, clusterSpec());
  });

  it.each(ROLES)(
    '%s: the role carries no managed policy and its documents evaluate as intended',
    async (role) => {
      const policies = await attachedPolicies(sandboxDeps(sb, { home }).deps.clients, roleName(role));
      expect(policies.managed).toEqual([]);
      const expectedNames =
        role === 'control-plane'
          ? ['k3sctl-control-plane', SSM_AGENT_POLICY_NAME]
          : ['k3sctl-node', NODE_SERVER_TOKEN_DENY_POLICY_NAME, SSM_AGENT_POLICY_NAME];
      expect(Object.keys(policies.inline).sort()).toEqual(expectedNames.sort());
      expect(policies.inline).toEqual(builtPolicies(role, policies.account).inline);
      await expectMatrix('sandbox', role, policies);
    },
  );

  it('converges a cluster made by an earlier k3sctl (managed policy attached, one inline policy), then makes no write', async () => {
    const clients = sandboxDeps(sb, { home }).deps.clients;
    for (const role of ROLES) await makeLegacy(clients, role);

    const rerunDeps = sandboxDeps(sb, { home }).deps;
    const rerun = await clusterCreate(rerunDeps, clusterSpec());
    const roleChanges = rerun.changes.filter((c) => c.type === 'AWS::IAM::Role');
    expect(roleChanges.map((c) => [c.name, c.action]).sort()).toEqual(
      ROLES.map((r) => [roleName(r), 'update']).sort(),
    );
    // Per role: a put for each inline policy changed or missing (2 + 3), one detach each; no other IAM write.
    const iamWrites = [...rerunDeps.clients.calls.byOperation].filter(
      ([op]) => !isReadOperation(op) && /Role|Policy|InstanceProfile/.test(op),
    );
    expect(Object.fromEntries(iamWrites)).toEqual({ PutRolePolicy: 5, DetachRolePolicy: 2 });
    for (const role of ROLES) {
      const policies = await attachedPolicies(clients, roleName(role));
      expect(policies.managed).toEqual([]);
      expect(policies.inline).toEqual(builtPolicies(role, policies.account).inline);
    }

    const again = await clusterCreate(sandboxDeps(sb, { home }).deps, clusterSpec());
    expect(again.apiCalls.write).toBe(0);
  });
});

/** What k3sctl 0.1 left on a role: AmazonSSMManagedInstanceCore attached and one inline policy. */
async function makeLegacy(clients: AwsClients, role: Role): Promise<void> {
  const RoleName = roleName(role);
  const { account } = await attachedPolicies(clients, RoleName);
  for (const PolicyName of (await clients.iam.send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames ??
    []) {
    await clients.iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }));
  }
  await clients.iam.send(
    new PutRolePolicyCommand({
      RoleName,
      PolicyName: `k3sctl-${role}`,
      PolicyDocument: JSON.stringify(legacyPolicy(role, account)),
    }),
  );
  await clients.iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: SSM_MANAGED_INSTANCE_CORE }));
}

/** The inline policies k3sctl 0.1 wrote (before the bootstrap-failure path and the ssm-agent policy). */
function legacyPolicy(role: Role, { partition, accountId }: RoleAccount): object {
  const ssm = `arn:${partition}:ssm:${REGION}:${accountId}:parameter`;
  if (role === 'node') {
    return {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadAgentToken',
          Effect: 'Allow',
          Action: ['ssm:GetParameter'],
          Resource: `${ssm}/k3sctl/clusters/${CLUSTER}/agent-token`,
        },
        { Sid: 'DiscoverControlPlanes', Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
      ],
    };
  }
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadClusterParameters',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: `${ssm}/k3sctl/clusters/${CLUSTER}/*`,
      },
      {
        Sid: 'MarkClusterInitialized',
        Effect: 'Allow',
        Action: ['ssm:PutParameter'],
        Resource: `${ssm}/k3sctl/clusters/${CLUSTER}/initialized`,
      },
    ],
  };
}

describe('instance role converge rollback', () => {
  async function converge(deps: WorkflowDeps, tasks: Task[]) {
    return runWorkflow(deps, 'test', async (run) => {
      await run.plan(tasks);
      await run.apply(tasks);
      return {};
    });
  }

  const spec = (role: Role): IamRoleSpec => ({
    key: 'role',
    roleName: roleName(role),
    cluster: CLUSTER,
    role,
    policies: instanceRolePolicies(role, scopeOf(CLUSTER)),
    managedPolicies: [],
  });

  it.each(ROLES)(
    '%s: a failed detach rolls back to the earlier policies, managed policy attached again',
    async (role) => {
      const sb = new Sandbox();
      const first = sandboxDeps(sb);
      await converge(first.deps, [iamRoleTask(spec(role)) as Task]);
      const clients = sandboxDeps(sb, { home: first.home }).deps.clients;
      await makeLegacy(clients, role);
      const before = await attachedPolicies(clients, roleName(role));

      sb.faults.add({ op: 'DetachRolePolicy', nth: 1, code: 'AccessDenied' });
      await expect(
        converge(sandboxDeps(sb, { home: first.home }).deps, [iamRoleTask(spec(role)) as Task]),
      ).rejects.toThrow();
      sb.faults.clear();
      expect(await attachedPolicies(clients, roleName(role))).toEqual(before);
    },
  );
});

// The same against moto (an AWS emulator we did not write; skipped with the emulator tests when it is
// missing): its IAM stores and returns the documents, and ships AWS's managed policies.
(emulatorSkipped() ? describe.skip : describe)('instance roles made by cluster create (moto)', () => {
  const moto = useMoto();
  const home = testHome();
  const deps = (): WorkflowDeps => ({
    clients: new AwsClients({
      region: MOTO_REGION,
      endpointUrl: moto().endpoint,
      credentials: MOTO_CREDENTIALS,
    }),
    clock: systemClock,
    events: collectingEvents(),
    region: MOTO_REGION,
    home,
    runId: testRunId(),
    providers,
  });


  it('AmazonSSMManagedInstanceCore in this test is the document moto ships', async () => {
    const { iam } = deps().clients;
    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: SSM_MANAGED_INSTANCE_CORE }))).Policy!;
    const version = await iam.send(
      new GetPolicyVersionCommand({
        PolicyArn: SSM_MANAGED_INSTANCE_CORE,
        VersionId: policy.DefaultVersionId!,
      }),
    );
    const doc = version.PolicyVersion!.Document!;
    expect(JSON.parse(typeof doc === 'string' ? decodeURIComponent(doc) : JSON.stringify(doc))).toEqual(
      MANAGED_POLICY_DOCUMENTS.AmazonSSMManagedInstanceCore,
    );
  });

  it('create carries the documents; an earlier cluster converges; a re-run makes no write', async () => {
    await clusterCreate(deps(), clusterSpec(), { wait: false });
    const clients = deps().clients;
    for (const role of ROLES) {
      const policies = await attachedPolicies(clients, roleName(role));
      expect(policies.managed).toEqual([]);
      expect(policies.inline).toEqual(builtPolicies(role, policies.account).inline);
      await expectMatrix('moto', role, policies);
    }

    for (const role of ROLES) await makeLegacy(clients, role);
    const rerunDeps = deps();
    await clusterCreate(rerunDeps, clusterSpec(), { wait: false });
    const iamWrites = [...rerunDeps.clients.calls.byOperation].filter(([op]) => !isReadOperation(op));
    expect(Object.fromEntries(iamWrites)).toEqual({ PutRolePolicy: 5, DetachRolePolicy: 2 });
    for (const role of ROLES) {
      const policies = await attachedPolicies(clients, roleName(role));
      expect(policies.managed).toEqual([]);
      expect(policies.inline).toEqual(builtPolicies(role, policies.account).inline);
    }
    const again = deps();
    await clusterCreate(again, clusterSpec(), { wait: false });
    expect(again.clients.calls.write).toBe(0);
  }, 300_000);
});
