// RunInstances with DryRun in the simulated account: every check of a real launch (here the instance
// profile's IAM propagation), then DryRunOperation instead of a launch; it takes an ordinary write's time.
import {
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { callLatencyMs } from '../../src/sandbox/latency';

async function withFreshProfile() {
  const sb = new Sandbox();
  const c = sandboxClients(sb, 'us-east-1');
  const profile = await c.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'fresh' }));
  const lt = await c.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'with-profile',
      LaunchTemplateData: {
        ImageId: DEFAULT_IMAGES[0].ImageId,
        InstanceType: 't3.small',
        IamInstanceProfile: { Arn: profile.InstanceProfile!.Arn! },
      },
    }),
  );
  const dryRun = () =>
    c.ec2.send(
      new RunInstancesCommand({
        DryRun: true,
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!, Version: '$Default' },
      }),
    );
  const instances = async () =>
    ((await c.ec2.send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap(
      (r) => r.Instances ?? [],
    );
  return { sb, dryRun, instances };
}

describe('sandbox EC2: RunInstances dry run', () => {
  it('refuses an instance profile IAM has not propagated yet, then answers DryRunOperation, launching nothing', async () => {
    const { sb, dryRun, instances } = await withFreshProfile();
    await expect(dryRun()).rejects.toMatchObject({
      name: expect.stringMatching(/^InvalidParameterValue/),
      message: expect.stringMatching(/Invalid IAM Instance Profile ARN/),
    });
    sb.advance(sb.behavior.timings.iamPropagationMs);
    await expect(dryRun()).rejects.toMatchObject({
      name: expect.stringMatching(/^DryRunOperation/),
      message: 'Request would have succeeded, but DryRun flag is set.',
      $metadata: expect.objectContaining({ httpStatusCode: 412 }),
    });
    expect(await instances()).toEqual([]);
  });

  it('takes an ordinary write latency, not a launch', async () => {
    const { sb, dryRun } = await withFreshProfile();
    sb.advance(sb.behavior.timings.iamPropagationMs);
    const t0 = sb.now();
    await dryRun().catch(() => undefined);
    expect(sb.now() - t0).toBe(callLatencyMs('DeleteTags'));
    expect(callLatencyMs('RunInstances', { DryRun: true })).toBeLessThan(callLatencyMs('RunInstances'));
  });
});
