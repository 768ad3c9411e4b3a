// Recycle of 3 control planes against moto (an AWS emulator we did not write), killed with SIGKILL
// once the first surge was asked for, then finished by a re-run or undone by `runs rollback`. Every
// check reads moto with the test's own SDK clients (test/helpers/awsInventory.ts): the group is back at
// min 3 / desired 3 / max 3 with 3 members, nothing suspended, no replacement record.
import { CreateSubnetCommand, CreateTagsCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { DescribeAutoScalingGroupsCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { tempHomes } from '../helpers/cli';
import { AccountReader } from '../helpers/awsInventory';
import { emulatorCli, explain, reportAssertionCount, type JsonResult } from '../helpers/emulatorCli';
import { startFaultProxy } from '../helpers/faultProxy';
import { journalEntries, runAndKill, surged } from '../helpers/killCli';
import { emulatorSkipped, MOTO_CREDENTIALS, MOTO_REGION, useMoto, type Moto } from '../helpers/moto';

const maybe = emulatorSkipped() ? describe.skip : describe;
jest.setTimeout(600_000);

const CP_ASG = 'k3sctl-demo-control-plane';

maybe('an interrupted recycle against moto', () => {
  reportAssertionCount('replacement against moto');
  const motoServer = useMoto();
  const home = tempHomes();
  let moto: Moto;
  let asg: AutoScalingClient;

  const ok = (res: JsonResult) =>
    expect({ code: res.code, why: res.code === 0 ? '' : explain(res) }).toEqual({ code: 0, why: '' });

  async function group(): Promise<Record<string, unknown>> {
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [CP_ASG] })))
      .AutoScalingGroups![0];
    const members = (g.Instances ?? []).filter((i) => !/^(Terminat|Detach)/.test(String(i.LifecycleState)));
    return {
      min: g.MinSize,
      desired: g.DesiredCapacity,
      max: g.MaxSize,
      members: members.length,
      suspended: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName),
      record: (g.Tags ?? [])
        .filter((t) => t.Key === 'k3sctl.io/replacement')
        .map((t) => JSON.parse(t.Value!)),
    };
  }

  const original = { min: 3, desired: 3, max: 3, members: 3, suspended: [], record: [] };

  beforeAll(() => {
    moto = motoServer();
    asg = new AccountReader({ region: MOTO_REGION, credentials: MOTO_CREDENTIALS, endpoint: moto.endpoint })
      .asg;
  });

  async function cluster(): Promise<{ h: string; k3: ReturnType<typeof emulatorCli> }> {
    await moto.reset();
    const h = home();
    const k3 = emulatorCli(moto, h, { inProcess: true });
    // moto's state was reset: the user's network is made again.
    const reader = new AccountReader({
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
      endpoint: moto.endpoint,
    });
    const vpc = await reader.ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
    await reader.ec2.send(
      new CreateTagsCommand({ Resources: [vpc.Vpc!.VpcId!], Tags: [{ Key: 'Name', Value: 'lab' }] }),
    );
    for (const [i, zone] of ['us-east-1a', 'us-east-1b'].entries())
      await reader.ec2.send(
        new CreateSubnetCommand({
          VpcId: vpc.Vpc!.VpcId!,
          CidrBlock: `10.30.${i + 1}.0/24`,
          AvailabilityZone: zone,
        }),
      );
    ok(
      await k3([
        'cluster',
        'create',
        'demo',
        '--vpc',
        'lab',
        '--control-planes',
        '3',
        '--nodes',
        '1',
        '--no-wait',
        '--yes',
      ]),
    );
    expect(await group()).toEqual(original);
    return { h, k3 };
  }

  const RECYCLE = ['recycle', 'demo', '--group', 'control-plane', '--yes'];

  async function killMidSurge(h: string): Promise<string> {
    // Through a proxy that holds each call 40 ms: the kill lands after the surge, before the decrement.
    const slow = await startFaultProxy(moto.endpoint, { delayMs: 40 });
    let killed: boolean;
    try {
      killed = await runAndKill(
        [...RECYCLE, '--force', '--endpoint-url', slow.endpoint],
        h,
        surged,
        moto.env,
      );
    } finally {
      await slow.close();
    }
    expect(killed).toBe(true);
    const during = await group();
    expect(during.desired).toBe(4);
    expect(during.record).toEqual([expect.objectContaining({ desired: 3, min: 3, max: 3 })]);
    expect(journalEntries(h).filter((e) => e.status === 'done').length).toBeGreaterThanOrEqual(4);
    const list = await emulatorCli(moto, h, { inProcess: true })(['runs', 'list']);
    return (list.json.runs as { runId: string; status: string }[]).find((r) => r.status === 'crashed')!.runId;
  }

  test('a re-run from another process finishes at min 3 / desired 3 / max 3', async () => {
    const { h, k3 } = await cluster();
    await killMidSurge(h);
    ok(await k3(RECYCLE));
    expect(await group()).toEqual(original);
  });

  test('`runs rollback` of the killed run puts the group back, removing the surge instance it launched', async () => {
    const { h, k3 } = await cluster();
    const before = (
      await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [CP_ASG] }))
    ).AutoScalingGroups![0].Instances!.map((i) => i.InstanceId);
    const run = await killMidSurge(h);
    const res = await k3(['runs', 'rollback', run, '--yes']);
    ok(res);
    expect(res.json.leftovers).toEqual([]);
    expect(await group()).toEqual(original);
    const after = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [CP_ASG] })))
      .AutoScalingGroups![0].Instances!.filter((i) => !/^Terminat/.test(String(i.LifecycleState)))
      .map((i) => i.InstanceId);
    // The members are the ones it had: the rollback chose the surge instance, not an old control plane.
    expect(after.sort()).toEqual([...before].sort());
  });
});
