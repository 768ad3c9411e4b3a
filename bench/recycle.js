#!/usr/bin/env node
// bench/recycle: simulated (virtual) time of `recycle` against the sandbox divided by the lower bound
// of the latency model — batches x (launch -> running -> InService + drain) — and API calls per
// replaced instance. Prints JSON lines. Needs a build first (`npm run build`; or K3SCTL_DIST=<dir>
// for a build elsewhere).
const path = require('node:path');

const dist = path.resolve(process.env.K3SCTL_DIST ?? path.join(__dirname, '..', 'dist'));
const { Sandbox } = require(path.join(dist, 'sandbox/sandbox'));
const { sandboxClients } = require(path.join(dist, 'sandbox/clients'));
const { defaultTimings } = require(path.join(dist, 'sandbox/latency'));
const { DEFAULT_IMAGES } = require(path.join(dist, 'sandbox/defaults'));
const { recycle } = require(path.join(dist, 'orchestration/workflows/recycle'));
const { renderUserData } = require(path.join(dist, 'userdata/render'));
const { clusterTags } = require(path.join(dist, 'aws/tags'));
const { names } = require(path.join(dist, 'aws/names'));
const { providers } = require(path.join(dist, 'resources/registry'));
const asg = require('@aws-sdk/client-auto-scaling');
const ec2 = require('@aws-sdk/client-ec2');
const fs = require('node:fs');
const os = require('node:os');

async function settle(clients, clock, name) {
  for (;;) {
    const g = (
      await clients.autoscaling.send(
        new asg.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
      )
    ).AutoScalingGroups[0];
    const inst = g.Instances ?? [];
    if (inst.length === g.DesiredCapacity && inst.every((i) => i.LifecycleState === 'InService')) return;
    await clock.sleep(5000);
  }
}

/** A node group of `size` instances as cluster create leaves it, then made out of date. */
async function fixture(sb, size) {
  const clients = sandboxClients(sb, 'us-east-1');
  const cluster = 'bench';
  const group = 'workers';
  const name = names.autoScalingGroup(cluster, group);
  const tags = clusterTags(cluster, 'node', { group, name });
  const userData = renderUserData({
    cluster,
    role: 'node',
    group,
    region: 'us-east-1',
    k3sVersion: 'v1.31.6+k3s1',
    k3sArgs: [],
    labels: {},
    taints: [],
    tlsSans: [],
    serverTokenParameter: names.ssmServerToken(cluster),
    agentTokenParameter: names.ssmAgentToken(cluster),
    initializedParameter: names.ssmInitialized(cluster),
    bootstrapFailurePrefix: names.ssmBootstrapFailures(cluster),
    lifecycleHookName: names.lifecycleHook(),
  }).base64;
  const subnets = (
    await clients.ec2.send(
      new ec2.DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
    )
  ).Subnets;
  const lt = await clients.ec2.send(
    new ec2.CreateLaunchTemplateCommand({
      LaunchTemplateName: names.launchTemplate(cluster, group),
      LaunchTemplateData: {
        ImageId: DEFAULT_IMAGES[0].ImageId,
        InstanceType: 't3.small',
        UserData: userData,
      },
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags }],
    }),
  );
  const ltId = lt.LaunchTemplate.LaunchTemplateId;
  await clients.autoscaling.send(
    new asg.CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: ltId, Version: '$Default' },
      MinSize: 1,
      MaxSize: size,
      DesiredCapacity: size,
      VPCZoneIdentifier: subnets.map((s) => s.SubnetId).join(','),
      Tags: tags.map((t) => ({ ...t, PropagateAtLaunch: false })),
    }),
  );
  await clients.autoscaling.send(
    new asg.PutLifecycleHookCommand({
      AutoScalingGroupName: name,
      LifecycleHookName: names.lifecycleHook(),
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 600,
      DefaultResult: 'CONTINUE',
    }),
  );
  await settle(clients, sb.clock, name);
  const v = await clients.ec2.send(
    new ec2.CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: ltId,
      SourceVersion: '$Default',
      LaunchTemplateData: { InstanceType: 't3.medium' },
    }),
  );
  await clients.ec2.send(
    new ec2.ModifyLaunchTemplateCommand({
      LaunchTemplateId: ltId,
      DefaultVersion: String(v.LaunchTemplateVersion.VersionNumber),
    }),
  );
  clients.destroy();
}

async function measure(label, size, options, batchSize) {
  const sb = new Sandbox();
  await fixture(sb, size);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-bench-'));
  const clients = sandboxClients(sb, 'us-east-1');
  const deps = {
    clients,
    clock: sb.clock,
    events: { emit() {} },
    region: 'us-east-1',
    home,
    runId: `bench-${label}`,
    sandbox: true,
    providers,
  };
  const t = sb.behavior.timings ?? defaultTimings;
  const start = sb.now();
  const wall = process.hrtime.bigint();
  const result = await recycle(deps, { cluster: 'bench', nodeReadiness: false, ...options });
  const simulatedMs = sb.now() - start;
  // The sandbox puts an instance InService once it runs AND the grace period since launch passed:
  // launch-to-InService is the larger of the two, not their sum.
  const launchToInServiceMs = Math.max(t.instanceBootMs, t.asgInServiceMs);
  const batches = Math.ceil(size / batchSize);
  const lowerBoundMs = batches * (launchToInServiceMs + t.drainMs);
  // Replacing without surge (serial), the group launches the replacement while the old one drains:
  // the critical path of one replacement is the longer of the two.
  const criticalPathMs =
    options.strategy === 'serial' ? batches * Math.max(launchToInServiceMs, t.drainMs) : lowerBoundMs;
  const calls = result.apiCalls.read + result.apiCalls.write;
  console.log(
    JSON.stringify({
      bench: 'recycle',
      case: label,
      instances: size,
      replaced: result.replacements.length,
      simulatedMs,
      lowerBoundMs,
      ratio: Number((simulatedMs / lowerBoundMs).toFixed(3)),
      criticalPathMs,
      ratioToCriticalPath: Number((simulatedMs / criticalPathMs).toFixed(3)),
      target: 1.15,
      apiCalls: result.apiCalls,
      apiCallsPerReplacedInstance: Number((calls / Math.max(1, result.replacements.length)).toFixed(2)),
      realMs: Math.round(Number(process.hrtime.bigint() - wall) / 1e6),
    }),
  );
  clients.destroy();
  fs.rmSync(home, { recursive: true, force: true });
}

(async () => {
  await measure(
    'rolling --batch 20% (100 instances)',
    100,
    { strategy: 'rolling', batch: { percent: 20 } },
    20,
  );
  await measure('serial (10 instances)', 10, { strategy: 'serial' }, 1);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
