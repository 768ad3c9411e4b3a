import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  UpdateAssumeRolePolicyCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { isInstanceProfileUsable } from '../../src/sandbox/services/iam';

/** The SDK's error name for an AWS error code: the code itself, or the client's modeled `<code>Exception` class. */
const code = (c: string) => expect.stringMatching(new RegExp(`^${c.replace(/\./g, '\\.')}(Exception)?$`));

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }],
});

function setup() {
  const sb = new Sandbox();
  const clients = sandboxClients(sb, 'us-east-1');
  return { sb, iam: clients.iam, ec2: clients.ec2 };
}

describe('sandbox IAM', () => {
  it('creates roles, refuses duplicates, long names and malformed policies', async () => {
    const { iam } = setup();
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: 'k3sctl-alpha-cp',
        AssumeRolePolicyDocument: trust,
        Path: '/k3sctl/',
        Tags: [{ Key: 'k3sctl.io/cluster', Value: 'alpha' }],
      }),
    );
    expect(created.Role?.Arn).toBe('arn:aws:iam::123456789012:role/k3sctl/k3sctl-alpha-cp');
    expect(created.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    await expect(
      iam.send(new CreateRoleCommand({ RoleName: 'k3sctl-alpha-cp', AssumeRolePolicyDocument: trust })),
    ).rejects.toHaveProperty('name', code('EntityAlreadyExistsException'));
    await expect(
      iam.send(new CreateRoleCommand({ RoleName: 'r'.repeat(65), AssumeRolePolicyDocument: trust })),
    ).rejects.toHaveProperty('name', code('ValidationError'));
    await expect(
      iam.send(new CreateRoleCommand({ RoleName: 'bad', AssumeRolePolicyDocument: '{not json' })),
    ).rejects.toHaveProperty('name', code('MalformedPolicyDocumentException'));
    await expect(iam.send(new GetRoleCommand({ RoleName: 'missing' }))).rejects.toHaveProperty(
      'name',
      code('NoSuchEntityException'),
    );
    const got = await iam.send(new GetRoleCommand({ RoleName: 'k3sctl-alpha-cp' }));
    expect(JSON.parse(decodeURIComponent(got.Role?.AssumeRolePolicyDocument as string))).toEqual(
      JSON.parse(trust),
    );
    expect(got.Role?.Tags).toEqual([{ Key: 'k3sctl.io/cluster', Value: 'alpha' }]);
  });

  it('manages inline and attached policies and refuses deleting a role that still has them', async () => {
    const { sb, iam } = setup();
    await iam.send(new CreateRoleCommand({ RoleName: 'r1', AssumeRolePolicyDocument: trust }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'r1', PolicyName: 'ssm', PolicyDocument: policy }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'r1',
        PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      }),
    );
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'r1' }))).PolicyNames).toEqual(['ssm']);
    const doc = await iam.send(new GetRolePolicyCommand({ RoleName: 'r1', PolicyName: 'ssm' }));
    expect(JSON.parse(decodeURIComponent(doc.PolicyDocument as string))).toEqual(JSON.parse(policy));
    await expect(iam.send(new DeleteRoleCommand({ RoleName: 'r1' }))).rejects.toHaveProperty(
      'name',
      code('DeleteConflictException'),
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'r1', PolicyName: 'ssm' }));
    await expect(
      iam.send(new DeleteRolePolicyCommand({ RoleName: 'r1', PolicyName: 'ssm' })),
    ).rejects.toHaveProperty('name', code('NoSuchEntityException'));
    await expect(iam.send(new DeleteRoleCommand({ RoleName: 'r1' }))).rejects.toHaveProperty(
      'name',
      code('DeleteConflictException'),
    );
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'r1',
        PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      }),
    );
    await iam.send(new DeleteRoleCommand({ RoleName: 'r1' }));
    expect(sb.inventory()).toEqual([]);
  });

  it('updates the trust policy, lists attached policies and pages instance profiles', async () => {
    const { iam } = setup();
    await iam.send(new CreateRoleCommand({ RoleName: 'r5', AssumeRolePolicyDocument: trust }));
    const newTrust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'r5', PolicyDocument: newTrust }));
    const role = await iam.send(new GetRoleCommand({ RoleName: 'r5' }));
    expect(JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument as string))).toEqual(
      JSON.parse(newTrust),
    );
    await expect(
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'r5', PolicyDocument: '[' })),
    ).rejects.toHaveProperty('name', code('MalformedPolicyDocument'));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'r5',
        PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      }),
    );
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'r5' }));
    expect(attached.AttachedPolicies).toEqual([
      {
        PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
        PolicyName: 'AmazonSSMManagedInstanceCore',
      },
    ]);
    for (let i = 0; i < 6; i++)
      await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: `p-${i}`, Path: '/k3sctl/' }));
    const first = await iam.send(new ListInstanceProfilesCommand({ PathPrefix: '/k3sctl/' }));
    expect(first.InstanceProfiles).toHaveLength(5);
    const second = await iam.send(
      new ListInstanceProfilesCommand({ PathPrefix: '/k3sctl/', Marker: first.Marker }),
    );
    expect(second.InstanceProfiles?.map((p) => p.Arn)).toEqual([
      'arn:aws:iam::123456789012:instance-profile/k3sctl/p-5',
    ]);
    expect(second.IsTruncated).toBe(false);
  });

  it('tags and untags roles', async () => {
    const { iam } = setup();
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'r2',
        AssumeRolePolicyDocument: trust,
        Tags: [{ Key: 'a', Value: '1' }],
      }),
    );
    await iam.send(
      new TagRoleCommand({
        RoleName: 'r2',
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ],
      }),
    );
    await iam.send(new UntagRoleCommand({ RoleName: 'r2', TagKeys: ['b'] }));
    expect((await iam.send(new ListRoleTagsCommand({ RoleName: 'r2' }))).Tags).toEqual([
      { Key: 'a', Value: '2' },
    ]);
  });

  it('holds one role per instance profile and refuses deleting a profile or role still linked', async () => {
    const { sb, iam } = setup();
    await iam.send(new CreateRoleCommand({ RoleName: 'r3', AssumeRolePolicyDocument: trust }));
    await iam.send(new CreateRoleCommand({ RoleName: 'r4', AssumeRolePolicyDocument: trust }));
    const profile = await iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: 'p3',
        Tags: [{ Key: 'k3sctl.io/cluster', Value: 'alpha' }],
      }),
    );
    expect(profile.InstanceProfile?.Arn).toBe('arn:aws:iam::123456789012:instance-profile/p3');
    await expect(
      iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'p3' })),
    ).rejects.toHaveProperty('name', code('EntityAlreadyExistsException'));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'p3', RoleName: 'r3' }));
    await expect(
      iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'p3', RoleName: 'r4' })),
    ).rejects.toHaveProperty('name', code('LimitExceededException'));
    expect(
      (
        await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'p3' }))
      ).InstanceProfile?.Roles?.map((r) => r.RoleName),
    ).toEqual(['r3']);
    expect(
      (await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'r3' }))).InstanceProfiles?.map(
        (p) => p.InstanceProfileName,
      ),
    ).toEqual(['p3']);
    await expect(
      iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'p3' })),
    ).rejects.toHaveProperty('name', code('DeleteConflictException'));
    await expect(iam.send(new DeleteRoleCommand({ RoleName: 'r3' }))).rejects.toHaveProperty(
      'name',
      code('DeleteConflictException'),
    );
    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'p3', RoleName: 'r3' }));
    await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'p3' }));
    await expect(
      iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'p3' })),
    ).rejects.toHaveProperty('name', code('NoSuchEntityException'));
    await iam.send(new DeleteRoleCommand({ RoleName: 'r3' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'r4' }));
    expect(sb.inventory()).toEqual([]);
  });

  it('pages ListRoles with Marker and filters by PathPrefix', async () => {
    const { iam } = setup();
    for (let i = 0; i < 6; i++)
      await iam.send(
        new CreateRoleCommand({ RoleName: `k-${i}`, AssumeRolePolicyDocument: trust, Path: '/k3sctl/' }),
      );
    await iam.send(new CreateRoleCommand({ RoleName: 'other', AssumeRolePolicyDocument: trust }));
    const first = await iam.send(new ListRolesCommand({ PathPrefix: '/k3sctl/' }));
    expect(first.Roles).toHaveLength(5);
    expect(first.IsTruncated).toBe(true);
    const second = await iam.send(new ListRolesCommand({ PathPrefix: '/k3sctl/', Marker: first.Marker }));
    expect(second.Roles?.map((r) => r.RoleName)).toEqual(['k-5']);
    expect(second.IsTruncated).toBe(false);
  });

  it('makes a new instance profile usable by EC2 only after the propagation delay', async () => {
    const { sb, iam, ec2 } = setup();
    await iam.send(new CreateRoleCommand({ RoleName: 'node', AssumeRolePolicyDocument: trust }));
    const p = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'node' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'node', RoleName: 'node' }));
    const run = () =>
      ec2.send(
        new RunInstancesCommand({
          ImageId: DEFAULT_IMAGES[0].ImageId,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          IamInstanceProfile: { Arn: p.InstanceProfile?.Arn },
        }),
      );
    const refused = await run().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused?.name).toBe('InvalidParameterValue');
    expect(refused?.message).toContain('Invalid IAM Instance Profile');
    expect(isInstanceProfileUsable(sb.context('us-east-1'), 'node')).toBe(false);
    sb.advance(sb.behavior.timings.iamPropagationMs);
    expect(isInstanceProfileUsable(sb.context('us-east-1'), 'node')).toBe(true);
    const res = await run();
    expect(res.Instances?.[0].IamInstanceProfile?.Arn).toBe(p.InstanceProfile?.Arn);
  });
});
