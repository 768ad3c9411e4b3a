// Sandbox conformance: one scenario run through the CLI's commands (in process,
// test/helpers/inProcessCli.ts) against the sandbox (--sandbox) and against moto (--endpoint-url) must
// leave the same inventory of k3sctl's resources: kinds, names, tags and key attributes, read in both
// accounts by the same plain SDK reader (test/helpers/awsInventory.ts).
// What differs by nature between two accounts (ids, ARNs, the default VPC's subnets, ACM's random
// validation names) is normalised away; every other difference is a sandbox defect, or is listed in
// KNOWN_DIFFERENCES with the AWS documentation that says the sandbox is right.
import { CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import * as path from 'node:path';
import { SandboxStore } from '../../src/sandbox/store';
import { AccountReader, k3sctlOwned, type Inventory, type InventoryItem } from '../helpers/awsInventory';
import { tempHome } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';
import { emulatorCli, explain, reportAssertionCount } from '../helpers/emulatorCli';
import { emulatorSkipped, MOTO_CREDENTIALS, MOTO_REGION, useMoto } from '../helpers/moto';

const maybe = emulatorSkipped() ? describe.skip : describe;
jest.setTimeout(600_000);

const SCENARIO: string[][] = [
  ['certificate', 'request', 'example.com', '--san', '*.us-east-1.example.com', '--yes'],
  ['alb', 'create', 'shared', '--certificate-domain', 'example.com', '--yes'],
  ['cluster', 'create', 'conf', '--subnet-filter', 'availability-zone=us-east-1a', '--control-planes', '1', '--nodes', '2', '--label', 'tier=web', '--ingress-alb', 'shared', '--ingress-zone', 'example.com', '--no-wait', '--yes'],
  ['nodegroup', 'add', 'conf', 'extra', '--nodes', '1', '--node-type', 't3.large', '--no-wait', '--yes'],
  ['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'conf', '--yes'],
];

/**
 * Attributes that differ between two accounts by nature: ids and the default VPC's layout (the sandbox
 * has three default subnets, moto six).
 */
const ACCOUNT_SPECIFIC = new Set(['id', 'vpc', 'subnet', 'subnets']);

/** Where the sandbox and moto differ and the sandbox follows AWS: the kind and key, and why. */
const KNOWN_DIFFERENCES: { kind: string; key: RegExp; why: string }[] = [
  {
    kind: 'AWS::SSM::Parameter',
    key: /\/initialized$/,
    why: 'written by the first control plane once k3s runs on it (userdata/bin/k3sctl-server-join); the sandbox models the instance side, moto runs no instance software',
  },
];

function view(inv: Inventory): Record<string, Record<string, unknown>> {
  const owned = k3sctlOwned(inv);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [kind, items] of Object.entries(owned)) {
    const seen = new Map<string, number>();
    const entries: [string, unknown][] = [];
    for (const i of items) {
      let key = normalise(i.key);
      // Instances have only ids for names: keyed by group and a running number instead.
      if (kind === 'AWS::EC2::Instance') key = `${i.tags['k3sctl.io/group']}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > 1) key = `${key}#${n}`;
      if (KNOWN_DIFFERENCES.some((d) => d.kind === kind && d.key.test(key))) continue;
      entries.push([key, { tags: normaliseTags(i), attrs: normaliseAttrs(i) }]);
    }
    out[kind] = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  }
  return out;
}

function normalise(text: string): string {
  return text
    .replace(/vpc-[0-9a-f]+/g, 'VPC')
    .replace(/sg-[0-9a-f]+/g, 'SG')
    .replace(/subnet-[0-9a-f]+/g, 'SUBNET')
    .replace(/i-[0-9a-f]{8,}/g, 'INSTANCE')
    .replace(/_[0-9a-f]{20,}\./g, '_TOKEN.')
    .replace(/arn:aws:[^\s",]+/g, 'ARN');
}

function normaliseTags(i: InventoryItem): Record<string, string> {
  return Object.fromEntries(Object.entries(i.tags).map(([k, v]) => [k, normalise(v)]));
}

function normaliseAttrs(i: InventoryItem): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(i.attrs)
      .filter(([k]) => !ACCOUNT_SPECIFIC.has(k))
      .map(([k, v]) => [k, JSON.parse(normalise(JSON.stringify(v ?? null))) as unknown]),
  );
}

maybe('sandbox conformance with moto', () => {
  reportAssertionCount('sandbox conformance with moto');
  const motoServer = useMoto();

  test('the same scenario leaves the same inventory in the sandbox and in moto', async () => {
    const moto = motoServer();
    // moto: the account starts without the public zone the sandbox has (example.com): made beforehand.
    const motoReader = new AccountReader({ region: MOTO_REGION, credentials: MOTO_CREDENTIALS, endpoint: moto.endpoint });
    await motoReader.r53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'k3sctl-conformance' }));
    const k3 = emulatorCli(moto, undefined, { inProcess: true });
    for (const args of SCENARIO) {
      const res = await k3(args);
      expect({ args, code: res.code, why: res.code === 0 ? '' : explain(res) }).toEqual({ args, code: 0, why: '' });
    }
    const motoView = view(await motoReader.inventory());
    motoReader.destroy();

    const home = tempHome();
    for (const args of SCENARIO) {
      const res = await runCliInProcess([...args, '--sandbox', '--json'], { home, unsetEnv: ['K3SCTL_SANDBOX_FAULTS', 'K3SCTL_SANDBOX_BEHAVIOR'] });
      expect({ args, code: res.code, why: res.code === 0 ? '' : explain(res) }).toEqual({ args, code: 0, why: '' });
    }
    const store = new SandboxStore(path.join(home, 'sandbox'));
    const sandbox = await store.open();
    let sandboxView: ReturnType<typeof view>;
    try {
      // --no-wait returned before the groups launched; moto launches at once, the sandbox over its
      // virtual clock (as AWS does over minutes): let ten simulated minutes pass before reading.
      sandbox.clock.advance(10 * 60_000);
      const reader = new AccountReader({ region: 'us-east-1', credentials: MOTO_CREDENTIALS, plugins: [sandbox.plugin('us-east-1')] });
      sandboxView = view(await reader.inventory());
      reader.destroy();
    } finally {
      store.release();
    }

    // Both ran the scenario: the comparison is not of two empty accounts.
    expect(Object.keys(motoView['AWS::AutoScaling::AutoScalingGroup'] ?? {})).toEqual(['k3sctl-conf-control-plane', 'k3sctl-conf-extra', 'k3sctl-conf-nodes']);
    expect(sandboxView).toEqual(motoView);
  });
});
