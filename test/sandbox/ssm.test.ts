import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SendCommandCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  DescribeInstanceInformationCommand,
} from '@aws-sdk/client-ssm';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { clusterTags } from '../../src/aws/tags';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';

/** The SDK's error name for an AWS error code: the code itself, or the client's modeled `<code>Exception` class. */
const code = (c: string) => expect.stringMatching(new RegExp(`^${c.replace(/\./g, '\\.')}(Exception)?$`));

function setup() {
  const sb = new Sandbox();
  const clients = sandboxClients(sb, 'us-east-1');
  return { sb, ssm: clients.ssm };
}

describe('sandbox SSM parameters', () => {
  it('creates, versions and overwrites parameters; refuses duplicates and tags with overwrite', async () => {
    const { sb, ssm } = setup();
    const put = await ssm.send(
      new PutParameterCommand({ Name: '/k3sctl/clusters/a/config', Value: 'v1', Type: 'String' }),
    );
    expect(put.Version).toBe(1);
    await expect(
      ssm.send(new PutParameterCommand({ Name: '/k3sctl/clusters/a/config', Value: 'v2', Type: 'String' })),
    ).rejects.toHaveProperty('name', code('ParameterAlreadyExists'));
    await expect(
      ssm.send(
        new PutParameterCommand({
          Name: '/k3sctl/clusters/a/config',
          Value: 'v2',
          Overwrite: true,
          Tags: [{ Key: 'a', Value: 'b' }],
        }),
      ),
    ).rejects.toHaveProperty('name', code('ValidationException'));
    await expect(
      ssm.send(new PutParameterCommand({ Name: '/k3sctl/new', Value: 'x' })),
    ).rejects.toHaveProperty('name', code('ValidationException'));
    sb.advance(5000);
    const second = await ssm.send(
      new PutParameterCommand({ Name: '/k3sctl/clusters/a/config', Value: 'v2', Overwrite: true }),
    );
    expect(second.Version).toBe(2);
    const got = await ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/a/config' }));
    expect(got.Parameter).toMatchObject({
      Name: '/k3sctl/clusters/a/config',
      Value: 'v2',
      Version: 2,
      Type: 'String',
    });
    // Dates cross the jest realm boundary (structuredClone), so compare the time, not the constructor.
    expect(got.Parameter?.LastModifiedDate?.getTime()).toBe(sb.now() - 120);
    expect(got.Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/k3sctl/clusters/a/config');
    expect(sb.inventory()).toEqual([
      expect.objectContaining({ type: 'AWS::SSM::Parameter', id: '/k3sctl/clusters/a/config' }),
    ]);
  });

  it('returns SecureString values only WithDecryption', async () => {
    const { ssm } = setup();
    await ssm.send(
      new PutParameterCommand({
        Name: '/k3sctl/clusters/a/server-token',
        Value: 'K10secret',
        Type: 'SecureString',
      }),
    );
    const hidden = await ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/a/server-token' }));
    expect(hidden.Parameter?.Type).toBe('SecureString');
    expect(hidden.Parameter?.Value).not.toContain('K10secret');
    expect(hidden.Parameter?.Value?.length).toBeGreaterThan(20);
    const shown = await ssm.send(
      new GetParameterCommand({ Name: '/k3sctl/clusters/a/server-token', WithDecryption: true }),
    );
    expect(shown.Parameter?.Value).toBe('K10secret');
    const many = await ssm.send(
      new GetParametersCommand({ Names: ['/k3sctl/clusters/a/server-token', '/nope'] }),
    );
    expect(many.Parameters?.map((p) => p.Value)).toEqual([hidden.Parameter?.Value]);
    expect(many.InvalidParameters).toEqual(['/nope']);
  });

  it('pages GetParametersByPath (5 per page), honours Recursive and decrypts on request', async () => {
    const { ssm } = setup();
    for (let i = 0; i < 7; i++) {
      await ssm.send(
        new PutParameterCommand({ Name: `/k3sctl/clusters/c${i}/config`, Value: `cfg${i}`, Type: 'String' }),
      );
    }
    await ssm.send(
      new PutParameterCommand({
        Name: '/k3sctl/clusters/c0/agent-token',
        Value: 'tok',
        Type: 'SecureString',
      }),
    );
    await ssm.send(new PutParameterCommand({ Name: '/k3sctl/top', Value: 'x', Type: 'String' }));

    const oneLevel = await ssm.send(new GetParametersByPathCommand({ Path: '/k3sctl' }));
    expect(oneLevel.Parameters?.map((p) => p.Name)).toEqual(['/k3sctl/top']);
    expect(oneLevel.NextToken).toBeUndefined();

    const first = await ssm.send(
      new GetParametersByPathCommand({ Path: '/k3sctl/clusters', Recursive: true, WithDecryption: true }),
    );
    expect(first.Parameters).toHaveLength(5);
    expect(first.NextToken).toBeDefined();
    const second = await ssm.send(
      new GetParametersByPathCommand({
        Path: '/k3sctl/clusters',
        Recursive: true,
        WithDecryption: true,
        NextToken: first.NextToken,
      }),
    );
    expect(second.Parameters).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();
    const all = [...(first.Parameters ?? []), ...(second.Parameters ?? [])];
    expect(all.find((p) => p.Name === '/k3sctl/clusters/c0/agent-token')?.Value).toBe('tok');
    await expect(ssm.send(new GetParametersByPathCommand({ Path: 'k3sctl' }))).rejects.toHaveProperty(
      'name',
      code('ValidationException'),
    );
  });

  it('deletes parameters and reports unknown ones', async () => {
    const { sb, ssm } = setup();
    await ssm.send(new PutParameterCommand({ Name: '/a/1', Value: 'x', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/a/2', Value: 'x', Type: 'String' }));
    await ssm.send(new DeleteParameterCommand({ Name: '/a/1' }));
    await expect(ssm.send(new DeleteParameterCommand({ Name: '/a/1' }))).rejects.toHaveProperty(
      'name',
      code('ParameterNotFound'),
    );
    await expect(ssm.send(new GetParameterCommand({ Name: '/a/1' }))).rejects.toHaveProperty(
      'name',
      code('ParameterNotFound'),
    );
    const res = await ssm.send(new DeleteParametersCommand({ Names: ['/a/2', '/a/3'] }));
    expect(res.DeletedParameters).toEqual(['/a/2']);
    expect(res.InvalidParameters).toEqual(['/a/3']);
    expect(sb.inventory()).toEqual([]);
  });

  it('describes parameters with Name and Path filters, paginated', async () => {
    const { ssm } = setup();
    for (let i = 0; i < 6; i++)
      await ssm.send(new PutParameterCommand({ Name: `/x/p${i}`, Value: 'v', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/x/deep/q', Value: 'v', Type: 'SecureString' }));
    await ssm.send(new PutParameterCommand({ Name: '/y/z', Value: 'v', Type: 'String' }));
    const begins = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/x/'] }],
      }),
    );
    expect(begins.Parameters).toHaveLength(5);
    const rest = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/x/'] }],
        NextToken: begins.NextToken,
      }),
    );
    expect(rest.Parameters).toHaveLength(2);
    expect(rest.NextToken).toBeUndefined();
    const oneLevel = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Path', Option: 'OneLevel', Values: ['/x'] }],
        MaxResults: 50,
      }),
    );
    expect(oneLevel.Parameters?.map((p) => p.Name)).toEqual(['/x/p0', '/x/p1', '/x/p2', '/x/p3', '/x/p4']);
    const equals = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: ['/x/deep/q'] }],
      }),
    );
    expect(equals.Parameters).toEqual([
      expect.objectContaining({ Name: '/x/deep/q', Type: 'SecureString', Version: 1 }),
    ]);
    // Public parameters are not part of the account's parameters.
    const everything = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/aws'] }],
      }),
    );
    expect(everything.Parameters).toEqual([]);
  });

  it('tags parameters', async () => {
    const { ssm } = setup();
    await ssm.send(
      new PutParameterCommand({
        Name: '/t/p',
        Value: 'v',
        Type: 'String',
        Tags: [{ Key: 'k3sctl.io/cluster', Value: 'a' }],
      }),
    );
    await ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'Parameter',
        ResourceId: '/t/p',
        Tags: [{ Key: 'extra', Value: '1' }],
      }),
    );
    await ssm.send(
      new RemoveTagsFromResourceCommand({
        ResourceType: 'Parameter',
        ResourceId: '/t/p',
        TagKeys: ['k3sctl.io/cluster'],
      }),
    );
    const tags = await ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/t/p' }),
    );
    expect(tags.TagList).toEqual([{ Key: 'extra', Value: '1' }]);
    await expect(
      ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/t/none' })),
    ).rejects.toHaveProperty('name', code('InvalidResourceId'));
  });

  it('serves the public AMI parameters in every region without listing them in the inventory', async () => {
    const sb = new Sandbox();
    const ssm = sandboxClients(sb, 'eu-west-1').ssm;
    for (const img of DEFAULT_IMAGES) {
      const got = await ssm.send(new GetParameterCommand({ Name: img.ssmParameter }));
      expect(got.Parameter?.Value).toBe(img.ImageId);
    }
    await expect(
      ssm.send(
        new PutParameterCommand({
          Name: DEFAULT_IMAGES[0].ssmParameter,
          Value: 'x',
          Type: 'String',
          Overwrite: true,
        }),
      ),
    ).rejects.toHaveProperty('name', code('ValidationException'));
    expect(sb.inventory()).toEqual([]);
  });
});

describe('sandbox SSM Run Command', () => {
  async function controlPlane() {
    const sb = new Sandbox();
    const clients = sandboxClients(sb, 'us-east-1');
    const profile = await clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'cp' }));
    sb.advance(sb.behavior.timings.iamPropagationMs);
    const run = await clients.ec2.send(
      new RunInstancesCommand({
        ImageId: DEFAULT_IMAGES[0].ImageId,
        InstanceType: 't3.small',
        MinCount: 2,
        MaxCount: 2,
        IamInstanceProfile: { Arn: profile.InstanceProfile?.Arn },
        TagSpecifications: [{ ResourceType: 'instance', Tags: clusterTags('alpha', 'control-plane') }],
      }),
    );
    const [cp, other] = (run.Instances ?? []).map((i) => i.InstanceId as string);
    return { sb, ssm: clients.ssm, ec2: clients.ec2, cp, other };
  }

  it('reports instances Online 10 s after they run', async () => {
    const { sb, ssm, cp, other } = await controlPlane();
    expect((await ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList).toEqual([]);
    sb.advance(sb.behavior.timings.instanceBootMs + 10_000);
    const info = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [cp] }] }),
    );
    expect(info.InstanceInformationList?.map((i) => [i.InstanceId, i.PingStatus, i.PlatformType])).toEqual([
      [cp, 'Online', 'Linux'],
    ]);
    const all = await ssm.send(new DescribeInstanceInformationCommand({}));
    expect(all.InstanceInformationList?.map((i) => i.InstanceId).sort()).toEqual([cp, other].sort());
  });

  it('runs a command through Pending/InProgress to Success and returns the kubeconfig of a ready control plane', async () => {
    const { sb, ssm, cp } = await controlPlane();
    sb.advance(sb.behavior.timings.instanceBootMs + sb.behavior.timings.k3sServerReadyMs);
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [cp],
        Parameters: { commands: ['sudo cat /etc/rancher/k3s/k3s.yaml'] },
      }),
    );
    const commandId = sent.Command?.CommandId as string;
    expect(sent.Command?.Status).toBe('Pending');
    await expect(
      ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: cp })),
    ).rejects.toHaveProperty('name', code('InvocationDoesNotExist'));
    sb.advance(500);
    expect(
      (await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: cp }))).Status,
    ).toMatch(/^(Pending|InProgress)$/);
    sb.advance(sb.behavior.timings.ssmCommandMs);
    const done = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: cp }));
    expect(done).toMatchObject({ Status: 'Success', ResponseCode: 0, StandardErrorContent: '' });
    expect(done.StandardOutputContent).toContain('server: https://127.0.0.1:6443');
    expect(done.StandardOutputContent).toContain('client-key-data: ');
    const listed = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
    expect(
      listed.CommandInvocations?.map((i) => [i.InstanceId, i.Status, i.CommandPlugins?.[0]?.ResponseCode]),
    ).toEqual([[cp, 'Success', 0]]);

    const nodes = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [cp],
        Parameters: { commands: ['k3s kubectl get nodes -o json'] },
      }),
    );
    sb.advance(sb.behavior.timings.ssmCommandMs);
    const out = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: nodes.Command?.CommandId, InstanceId: cp }),
    );
    expect(JSON.parse(out.StandardOutputContent ?? '{}').items).toHaveLength(2);
  });

  it('fails commands before k3s is ready and marks terminated instances Undeliverable', async () => {
    const { sb, ssm, ec2, cp, other } = await controlPlane();
    sb.advance(sb.behavior.timings.instanceBootMs + 10_000);
    const early = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [cp],
        Parameters: { commands: ['cat /etc/rancher/k3s/k3s.yaml'] },
      }),
    );
    sb.advance(sb.behavior.timings.ssmCommandMs);
    const failed = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: early.Command?.CommandId, InstanceId: cp }),
    );
    expect(failed).toMatchObject({
      Status: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: expect.stringContaining('No such file or directory'),
    });

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [other] }));
    const lost = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [other],
        Parameters: { commands: ['hostname'] },
      }),
    );
    sb.advance(sb.behavior.timings.ssmCommandMs);
    const undeliverable = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: lost.Command?.CommandId, InstanceId: other }),
    );
    expect(undeliverable).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Undeliverable',
      ResponseCode: -1,
    });
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: ['i-0123456789abcdef0'],
          Parameters: { commands: ['hostname'] },
        }),
      ),
    ).rejects.toHaveProperty('name', code('InvalidInstanceId'));
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunPowerShellScript',
          InstanceIds: [cp],
          Parameters: { commands: ['dir'] },
        }),
      ),
    ).rejects.toHaveProperty('name', code('InvalidDocument'));
  });
});
