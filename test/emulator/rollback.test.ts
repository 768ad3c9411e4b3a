// Rollback against moto (an AWS emulator we did not write): a proxy in front of moto
// (test/helpers/faultProxy.ts) fails one write of `cluster create` at a time, and after each run the
// account, read with the test's own AWS SDK clients (test/helpers/awsInventory.ts), must be exactly
// what it was before: every kind, name, tag and attribute. The failed call reaches k3sctl as the real
// SDK parses a real AWS error, so this sweeps k3sctl's journal and rollback against an account it does
// not simulate itself.
import { CreateOrUpdateTagsCommand } from '@aws-sdk/client-auto-scaling';
import { AddTagsToCertificateCommand } from '@aws-sdk/client-acm';
import {
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { AddTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { AccountReader, type Inventory, type InventoryItem } from '../helpers/awsInventory';
import { emulatorCli, explain, type JsonResult, reportAssertionCount } from '../helpers/emulatorCli';
import {
  injectedErrorCode,
  startFaultProxy,
  type FaultProxy,
  type WireProtocol,
} from '../helpers/faultProxy';
import { emulatorSkipped, MOTO_CREDENTIALS, MOTO_REGION, useMoto, type Moto } from '../helpers/moto';

const maybe = emulatorSkipped() ? describe.skip : describe;
jest.setTimeout(900_000);

const CLUSTER = 'sweep';
const CREATE = [
  'cluster',
  'create',
  CLUSTER,
  '--vpc',
  'lab',
  '--control-planes',
  '1',
  '--nodes',
  '1',
  '--no-wait',
  '--yes',
];
const DELETE = ['cluster', 'delete', CLUSTER, '--yes'];

/** What differs between two inventories, one line per item: `+` added, `-` removed, `~` changed. */
function inventoryDiff(before: Inventory, after: Inventory): string[] {
  const out: string[] = [];
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = new Map((before[kind] ?? []).map((i) => [i.key, i]));
    const now = new Map((after[kind] ?? []).map((i) => [i.key, i]));
    for (const [key, item] of now) {
      const old = was.get(key);
      if (!old) out.push(`+ ${kind} ${key}${describeTags(item)}`);
      else if (JSON.stringify(old) !== JSON.stringify(item))
        out.push(`~ ${kind} ${key}: ${JSON.stringify(old)} -> ${JSON.stringify(item)}`);
    }
    for (const key of was.keys()) if (!now.has(key)) out.push(`- ${kind} ${key}`);
  }
  return out;
}

function describeTags(item: InventoryItem): string {
  const tags = Object.entries(item.tags).map(([k, v]) => `${k}=${v}`);
  return tags.length ? ` [${tags.join(', ')}]` : '';
}

maybe('rollback against moto', () => {
  reportAssertionCount('rollback against moto');
  const motoServer = useMoto();
  let moto: Moto;
  let proxy: FaultProxy;
  let reader: AccountReader;
  let k3: (args: string[], endpoint?: string) => Promise<JsonResult>;
  let before: Inventory;
  let vpcId: string;
  /** Writes of a clean `cluster create`, counted by the proxy in the reference run. */
  let writes: number | undefined;
  /** Their operations, in the order of the reference run. */
  let referenceWrites: string[] = [];

  /** The user's own network, made beforehand: k3sctl must find it and never touch it. */
  async function makeUserAccount(): Promise<void> {
    const vpc = await reader.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    vpcId = vpc.Vpc!.VpcId!;
    await reader.ec2.send(
      new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Name', Value: 'lab' }] }),
    );
    for (const [i, zone] of ['us-east-1a', 'us-east-1b'].entries()) {
      await reader.ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i + 1}.0/24`, AvailabilityZone: zone }),
      );
    }
    before = await reader.inventory();
  }

  const ok = (res: JsonResult) =>
    expect({ code: res.code, why: res.code === 0 ? '' : explain(res) }).toEqual({ code: 0, why: '' });

  beforeAll(async () => {
    moto = motoServer();
    proxy = await startFaultProxy(moto.endpoint);
    reader = new AccountReader({
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
      endpoint: moto.endpoint,
    });
    k3 = emulatorCli(moto, undefined, { inProcess: true });
    await makeUserAccount();
  }, 120_000);

  afterAll(async () => {
    reader?.destroy();
    await proxy?.close();
  });

  test('the proxy forwards reads unchanged and its injected errors parse as AWS errors the SDK does not retry, in every protocol', async () => {
    const viaProxy = new AccountReader({
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
      endpoint: proxy.endpoint,
    });
    try {
      proxy.disarm();
      const vpcs = await viaProxy.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
      expect(vpcs.Vpcs?.map((v) => v.Tags?.find((t) => t.Key === 'Name')?.Value)).toEqual(['lab']);
      expect(proxy.calls()).toEqual([
        { operation: 'DescribeVpcs', protocol: 'ec2', write: false, failed: false },
      ]);

      const cases: {
        protocol: WireProtocol;
        operation: string;
        name: string;
        status: number;
        send: () => Promise<unknown>;
      }[] = [
        {
          protocol: 'ec2',
          operation: 'CreateTags',
          name: 'UnauthorizedOperation',
          status: 403,
          send: () =>
            viaProxy.ec2.send(
              new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'x', Value: 'y' }] }),
            ),
        },
        {
          protocol: 'query',
          operation: 'CreateRole',
          name: 'AccessDenied',
          status: 403,
          send: () =>
            viaProxy.iam.send(new CreateRoleCommand({ RoleName: 'probe', AssumeRolePolicyDocument: '{}' })),
        },
        {
          protocol: 'query',
          operation: 'CreateOrUpdateTags',
          name: 'AccessDenied',
          status: 403,
          send: () =>
            viaProxy.asg.send(
              new CreateOrUpdateTagsCommand({
                Tags: [
                  {
                    ResourceId: 'probe',
                    ResourceType: 'auto-scaling-group',
                    Key: 'x',
                    Value: 'y',
                    PropagateAtLaunch: false,
                  },
                ],
              }),
            ),
        },
        {
          protocol: 'query',
          operation: 'AddTags',
          name: 'AccessDenied',
          status: 403,
          send: () =>
            viaProxy.elb.send(
              new AddTagsCommand({
                ResourceArns: [
                  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/probe/1',
                ],
                Tags: [{ Key: 'x', Value: 'y' }],
              }),
            ),
        },
        {
          protocol: 'json',
          operation: 'PutParameter',
          name: 'AccessDeniedException',
          status: 400,
          send: () =>
            viaProxy.ssm.send(new PutParameterCommand({ Name: '/probe', Value: 'x', Type: 'String' })),
        },
        {
          protocol: 'json',
          operation: 'AddTagsToCertificate',
          name: 'AccessDeniedException',
          status: 400,
          send: () =>
            viaProxy.acm.send(
              new AddTagsToCertificateCommand({
                CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/probe',
                Tags: [{ Key: 'x', Value: 'y' }],
              }),
            ),
        },
        {
          protocol: 'route53',
          operation: 'ChangeResourceRecordSets',
          name: 'AccessDenied',
          status: 403,
          send: () =>
            viaProxy.r53.send(
              new ChangeResourceRecordSetsCommand({
                HostedZoneId: 'ZPROBE',
                ChangeBatch: {
                  Changes: [
                    {
                      Action: 'CREATE',
                      ResourceRecordSet: {
                        Name: 'probe.test',
                        Type: 'A',
                        TTL: 60,
                        ResourceRecords: [{ Value: '10.0.0.1' }],
                      },
                    },
                  ],
                },
              }),
            ),
        },
      ];
      const seen: unknown[] = [];
      for (const c of cases) {
        proxy.arm({ failWrite: 1 });
        const error = (await c.send().then(
          () => undefined,
          (e: unknown) => e,
        )) as
          | { name?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } }
          | undefined;
        seen.push({
          operation: c.operation,
          name: error?.name,
          status: error?.$metadata?.httpStatusCode,
          attempts: error?.$metadata?.attempts,
          message: error?.message?.includes('injected failure'),
          calls: proxy.calls(),
        });
        expect(injectedErrorCode(c.protocol)).toBe(c.name.replace(/Exception$/, ''));
      }
      proxy.disarm();
      expect(seen).toEqual(
        cases.map((c) => ({
          operation: c.operation,
          name: c.name,
          status: c.status,
          attempts: 1, // not retried
          message: true,
          calls: [{ operation: c.operation, protocol: c.protocol, write: true, failed: true }], // never reached moto
        })),
      );
      expect(await reader.inventory()).toEqual(before);
    } finally {
      viaProxy.destroy();
    }
  });

  test('reference run: cluster create through the unarmed proxy counts W writes, as apiCalls.write says; cluster delete restores the account', async () => {
    proxy.disarm();
    const res = await k3(CREATE, proxy.endpoint);
    ok(res);
    const calls = proxy.calls();
    const w = calls.filter((c) => c.write).length;
    // Both count every request (k3sctl below the SDK's retries, the proxy on the wire), and classify reads alike.
    expect({ proxy: { read: calls.length - w, write: w } }).toEqual({ proxy: res.json.apiCalls });
    expect(w).toBeGreaterThan(0);
    writes = w;
    referenceWrites = calls.filter((c) => c.write).map((c) => c.operation);

    ok(await k3(DELETE));
    expect(await reader.inventory()).toEqual(before);
  });

  test('every write of cluster create, failed in turn, is rolled back: exit 1 naming the failed call, and the account exactly as before', async () => {
    expect(writes).toBeDefined();
    const failures: string[] = [];
    const failedOperations: string[] = [];
    let lastError: Record<string, unknown> = {};
    const started = Date.now();
    for (let n = 1; n <= writes!; n++) {
      proxy.arm({ failWrite: n });
      const res = await k3(CREATE, proxy.endpoint);
      const calls = proxy.calls();
      proxy.disarm();
      const failed = calls.find((c) => c.failed);
      failedOperations.push(`${n}:${failed?.operation ?? '(none)'}`);
      const problems: string[] = [];
      if (!failed)
        problems.push(`no write was failed: the run made ${calls.filter((c) => c.write).length} writes`);
      if (res.code !== 1) problems.push(`exit ${res.code}, expected 1: ${explain(res)}`);
      const error = (res.json.error ?? {}) as {
        code?: string;
        operation?: string;
        message?: string;
        leftovers?: unknown[];
        rolledBack?: unknown[];
      };
      lastError = {
        type: res.json.error?.type,
        code: error.code,
        service: res.json.error?.service,
        operation: error.operation,
        rolledBack: error.rolledBack?.length,
        leftovers: error.leftovers?.length,
      };
      if (failed) {
        const code = injectedErrorCode(failed.protocol);
        if (error.code !== code) problems.push(`JSON error code ${error.code}, expected ${code}`);
        if (error.operation !== failed.operation && !String(error.message).includes(failed.operation))
          problems.push(
            `JSON error names operation ${error.operation} (message: ${error.message}), expected ${failed.operation}`,
          );
      }
      if (error.leftovers?.length) problems.push(`leftovers reported: ${JSON.stringify(error.leftovers)}`);
      const diff = inventoryDiff(before, await reader.inventory());
      if (diff.length) problems.push(`account differs from before:\n    ${diff.join('\n    ')}`);
      if (problems.length) {
        failures.push(`write ${n} (${failed?.operation ?? '?'}), exit ${res.code}: ${problems.join('; ')}`);
        // Start the next position from a clean account: what this one left must not blur the others.
        const cleanup = await k3(DELETE);
        if (cleanup.code !== 0 || inventoryDiff(before, await reader.inventory()).length) {
          failures.push(
            `  after write ${n}: cluster delete did not restore the account (exit ${cleanup.code}); moto reset and the user VPC made anew`,
          );
          await moto.reset();
          await makeUserAccount();
        }
      }
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(
      `rollback sweep: W=${writes} writes of cluster create (reference order: ${referenceWrites.join(', ')}); ` +
        `failed in turn: ${failedOperations.join(', ')}; ${failures.length} problem(s); sweep wall time ${seconds}s; ` +
        `JSON error of write ${writes}: ${JSON.stringify(lastError)}`,
    );
    expect(failures).toEqual([]);
  });

  // The control: the sweep can see a rollback that leaves something. A second failure, on the first
  // write of the rollback, must give exit 3, name the leftover, and leave it in moto.
  test('a rollback write that fails too: exit 3, the leftover listed and still in moto; cluster delete then restores the account', async () => {
    expect(writes).toBeDefined();
    proxy.arm({ failWrite: [writes!, writes! + 1] });
    const res = await k3(CREATE, proxy.endpoint);
    const failedCalls = proxy.calls().filter((c) => c.failed);
    proxy.disarm();
    expect({ code: res.code, failed: failedCalls.length, why: res.code === 3 ? '' : explain(res) }).toEqual({
      code: 3,
      failed: 2,
      why: '',
    });
    const leftovers = res.json.error.leftovers as { type: string; name: string; error: string }[];
    expect(leftovers[0]!.error).toContain(injectedErrorCode(failedCalls[1]!.protocol));
    // When that write was an Auto Scaling group's deletion, its instances still run and may write under
    // the cluster's SSM path: the cluster's settings stay, listed too, until a later rollback finds them gone.
    expect(leftovers.slice(1)).toEqual(
      leftovers[0]!.type === 'AWS::AutoScaling::AutoScalingGroup'
        ? [expect.objectContaining({ type: 'AWS::SSM::Parameter', name: `/k3sctl/clusters/${CLUSTER}/config`, error: expect.stringMatching(/still run outside a group being deleted/) })]
        : [],
    );
    const diff = inventoryDiff(before, await reader.inventory());
    for (const l of leftovers) expect(diff.some((line) => line.includes(l.name))).toBe(true);

    ok(await k3(DELETE));
    expect(await reader.inventory()).toEqual(before);
  });

  test('a create failed halfway, then run again and deleted, leaves the account as before', async () => {
    expect(writes).toBeDefined();
    const n = Math.ceil(writes! / 2);
    proxy.arm({ failWrite: n });
    const failed = await k3(CREATE, proxy.endpoint);
    const failedCall = proxy.calls().find((c) => c.failed);
    proxy.disarm();
    expect({
      code: failed.code,
      failedCall: failedCall !== undefined,
      why: failed.code === 1 ? '' : explain(failed),
    }).toEqual({ code: 1, failedCall: true, why: '' });

    const again = await k3(CREATE, proxy.endpoint);
    ok(again);
    // The rolled-back account is as good as a fresh one: the second create does all the work again.
    expect(proxy.calls().filter((c) => c.write).length).toBe(writes);
    ok(await k3(DELETE));
    expect(await reader.inventory()).toEqual(before);
  });
});
