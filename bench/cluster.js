#!/usr/bin/env node
// bench/cluster: `cluster create` / no-op re-run / `cluster delete` against the sandbox. Prints JSON lines:
//  - simulated (virtual) wall time of create (with wait: InService, ingress targets healthy, Kubernetes
//    nodes Ready) divided by the critical path of the sandbox's latency model (formula in the
//    `criticalPath` line), for 3 control planes + 3 nodes + ingress;
//  - simulated wall time of the delete of that cluster divided by its lower bound under the same model
//    (formula in the `deleteLowerBound` line);
//  - read/write API calls of the create (writes include the node readiness probes, SSM SendCommand),
//    of a no-op re-run (reads must not grow with instances: 3+30 is measured too) and of the delete;
//  - the same for 1,000 instances as the issue asks: 1 control plane + 20 node groups x 50 (each group's
//    declaration is its own SSM parameter), with real CPU time and peak RSS.
// Needs a build first (`npx tsc -p tsconfig.build.json`; or K3SCTL_DIST=<dir> for a build elsewhere).
// `node bench/cluster.js --quick` skips the 1,000-instance run.
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { setInterval, clearInterval } = require('node:timers');

const dist = path.resolve(process.env.K3SCTL_DIST ?? path.join(__dirname, '..', 'dist'));
const load = (m) => require(path.join(dist, m));
const { providers } = load('resources/registry');
const { Sandbox } = load('sandbox/sandbox');
const { sandboxClients } = load('sandbox/clients');
const { callLatencyMs, defaultTimings } = load('sandbox/latency');
const { buildClusterSpec, buildGroupSpec } = load('config/cluster');
const { buildAlbSpec, buildCertificateSpec } = load('config/ingress');
const { clusterCreate } = load('orchestration/workflows/clusterCreate');
const { clusterDelete } = load('orchestration/workflows/clusterDelete');
const { albCreate } = load('orchestration/workflows/albCreate');
const { certificateRequest } = load('orchestration/workflows/certificateRequest');

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-bench-'));
let runs = 0;
const warnings = [];
const events = { emit: (e) => (e.kind === 'log' && e.level === 'warn' ? warnings.push(e.message) : undefined) };

function deps(sb) {
  return {
    clients: sandboxClients(sb, 'us-east-1'),
    clock: sb.clock,
    events,
    region: 'us-east-1',
    home,
    runId: `bench-${process.pid}-${++runs}`,
    sandbox: true,
    providers,
  };
}

function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const chain = (...ops) => ops.reduce((n, op) => n + callLatencyMs(op), 0);

/**
 * The critical path of `cluster create` (with ingress, waiting) under the sandbox's latency model: the
 * longest dependency chain of calls of the workflow's task DAG, then what AWS takes after the last
 * write. Every term comes from src/sandbox/latency.ts.
 */
function criticalPath(t) {
  // Lookups: VPC -> subnets, and ALB -> its HTTPS listener, are the dependent pairs (the rest is independent).
  const lookups = Math.max(
    chain('DescribeVpcs', 'DescribeSubnets'),
    chain('DescribeLoadBalancers', 'DescribeListeners'),
  );
  // Plan: each task is found after its dependencies: role -> instance profile -> launch template -> ASG.
  const plan = chain('GetRole', 'GetInstanceProfile', 'DescribeLaunchTemplates', 'DescribeAutoScalingGroups');
  // Apply along the same chain (a task whose dependency was just created is found again first).
  const role = chain('CreateRole', 'PutRolePolicy', 'AttachRolePolicy');
  const profile = chain('GetInstanceProfile', 'CreateInstanceProfile');
  const profileToAsg = chain(
    'AddRoleToInstanceProfile',
    'DescribeLaunchTemplates',
    'CreateLaunchTemplate',
    'DescribeAutoScalingGroups',
    'CreateAutoScalingGroup',
  );
  const profileCreated = lookups + plan + role + profile;
  const asgCreated = profileCreated + profileToAsg;
  // The ASG launches once it exists and the new instance profile is usable (IAM propagation).
  const launch = Math.max(asgCreated, profileCreated + t.iamPropagationMs);
  // InService when EC2 runs it and the health-check grace passed; registered in the target group then.
  const inService = launch + Math.max(t.instanceBootMs, t.asgInServiceMs);
  const healthy = inService + t.targetHealthyMs;
  // k3s: a server is Ready k3sServerReadyMs after it runs, an agent k3sAgentReadyMs after it runs but
  // never before the first server. A readiness probe (SSM command) reports the state at its end; the
  // earliest it can be seen is one GetCommandInvocation after the last node is Ready.
  const running = launch + t.instanceBootMs;
  const nodesReady = running + Math.max(t.k3sServerReadyMs, t.k3sAgentReadyMs);
  const total = Math.max(
    healthy + callLatencyMs('DescribeTargetHealth'),
    nodesReady + callLatencyMs('GetCommandInvocation'),
  );
  return {
    totalMs: total,
    terms: {
      lookups,
      plan,
      role,
      profile,
      profileToAsg,
      profileCreated,
      asgCreated,
      launch,
      inService,
      healthy,
      running,
      nodesReady,
    },
    formula:
      'max(VPC->subnets, ALB->listener) + plan finds(role->profile->LT->ASG) + CreateRole+PutRolePolicy+AttachRolePolicy + GetInstanceProfile+CreateInstanceProfile' +
      ' -> launch = max(+AddRoleToInstanceProfile+DescribeLaunchTemplates+CreateLaunchTemplate+DescribeAutoScalingGroups+CreateAutoScalingGroup, +iamPropagationMs)' +
      ' + max(max(instanceBootMs, asgInServiceMs) + targetHealthyMs + DescribeTargetHealth,' +
      ' instanceBootMs + max(k3sServerReadyMs, k3sAgentReadyMs) + GetCommandInvocation)',
  };
}

/**
 * The lower bound of `cluster delete` (3 control planes + 3 nodes, with ingress) under the sandbox's latency
 * model: the longest dependency chain of the delete, each term from src/sandbox/latency.ts and the
 * sandbox's Auto Scaling and EC2 models. Scale-in starts when UpdateAutoScalingGroup is answered; with
 * the ingress target group detached there is no ELB connection draining, so an instance waits drainMs
 * on its termination hook (the node drains and leaves), then shuts down for instanceShutdownMs, and its
 * network interface is released when it is terminated.
 */
function deleteLowerBound(t) {
  // The cluster's listener rule: its target group -> the ALB's listeners -> their rules -> the rule's tags.
  const find = chain('DescribeTargetGroups', 'DescribeListeners', 'DescribeRules', 'DescribeTags');
  // Ingress traffic stops before any instance drains, then the node groups scale to 0.
  const nodesScaleIn = find + chain('DeleteRule', 'DetachLoadBalancerTargetGroups', 'UpdateAutoScalingGroup');
  // Nodes drain through the control planes: these scale in once the nodes are seen past their hook.
  const nodesDrained = nodesScaleIn + t.drainMs;
  const cpScaleIn = nodesDrained + chain('DescribeAutoScalingGroups', 'UpdateAutoScalingGroup');
  const cpTerminated = cpScaleIn + t.drainMs + t.instanceShutdownMs;
  // Seen empty, deleted (an empty group goes at once), seen gone.
  const groupsDeleted =
    cpTerminated + chain('DescribeAutoScalingGroups', 'DeleteAutoScalingGroup', 'DescribeAutoScalingGroups');
  // Then in parallel: target group, launch templates, parameters (listed again: instances write there),
  // and each role after its profile and inline policies (IAM DeleteConflict).
  const rest = Math.max(
    chain('DeleteTargetGroup'),
    chain('DeleteLaunchTemplate'),
    chain('GetParametersByPath', 'DeleteParameters'),
    chain('ListRolePolicies', 'DeleteRolePolicy', 'DeleteRole'),
    chain('RemoveRoleFromInstanceProfile', 'DeleteRole'),
  );
  // The security group last (cluster list finds a half-deleted cluster by it), its ENIs long released.
  const total = groupsDeleted + rest + callLatencyMs('DeleteSecurityGroup');
  return {
    totalMs: total,
    terms: { find, nodesScaleIn, nodesDrained, cpScaleIn, cpTerminated, groupsDeleted, rest },
    formula:
      'DescribeTargetGroups+DescribeListeners+DescribeRules+DescribeTags' +
      ' + DeleteRule+DetachLoadBalancerTargetGroups+UpdateAutoScalingGroup' +
      ' + drainMs + DescribeAutoScalingGroups+UpdateAutoScalingGroup + drainMs + instanceShutdownMs' +
      ' + DescribeAutoScalingGroups+DeleteAutoScalingGroup+DescribeAutoScalingGroups' +
      ' + max(DeleteTargetGroup, DeleteLaunchTemplate, GetParametersByPath+DeleteParameters,' +
      ' ListRolePolicies+DeleteRolePolicy+DeleteRole, RemoveRoleFromInstanceProfile+DeleteRole)' +
      ' + DeleteSecurityGroup',
  };
}

async function sharedAlb(sb) {
  const cert = await certificateRequest(
    deps(sb),
    buildCertificateSpec({ domain: 'example.com', sans: ['*.example.com', '*.us-east-1.example.com'] }),
  );
  await albCreate(deps(sb), buildAlbSpec({ name: 'shared', certificate: cert.certificate.arn }));
}

function spec(name, controlPlanes, nodeGroups, nodesPerGroup, ingress) {
  const base = buildClusterSpec({
    name,
    region: 'us-east-1',
    controlPlanes,
    nodes: nodesPerGroup,
    ...(ingress ? { ingress: { alb: 'shared', zone: 'example.com' } } : {}),
  });
  if (nodeGroups === 1) return base;
  const cp = base.groups.find((g) => g.role === 'control-plane');
  const groups = Array.from({ length: nodeGroups }, (_, i) =>
    buildGroupSpec(
      { name: `g${i + 1}`, role: 'node', count: nodesPerGroup },
      { k3sVersion: base.k3sVersion },
    ),
  );
  return { ...base, groups: [cp, ...groups] };
}

async function measure(label, s, options = {}) {
  // The preflight of cluster create checks the EC2 vCPU quota: the simulated account's (1152 vCPUs) is
  // raised so that the 1,000-instance case fits, as a real account running that many would have it.
  const sb = new Sandbox({ behavior: { onDemandVcpuQuota: 100_000 } });
  if (s.ingress) await sharedAlb(sb);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    return await measured();
  } finally {
    clearInterval(sampler);
  }
  async function measured() {
    const cpu0 = process.cpuUsage();
    const real0 = Date.now();
    const t0 = sb.now();
    const probes0 = sb.state.calls.byOperation.SendCommand ?? 0;
    warnings.length = 0;
    const created = await clusterCreate(deps(sb), s);
    const createMs = sb.now() - t0;
    const probes = (sb.state.calls.byOperation.SendCommand ?? 0) - probes0;
    const createCpu = process.cpuUsage(cpu0);
    const createReal = Date.now() - real0;
    const noop = await clusterCreate(deps(sb), s);
    const t1 = sb.now();
    const deleted = await clusterDelete(deps(sb), s.name);
    const deleteMs = sb.now() - t1;
    const cpu = process.cpuUsage(cpu0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const instances = s.groups.reduce((n, g) => n + g.count, 0);
    const line = {
      bench: 'cluster',
      case: label,
      groups: s.groups.length,
      instances,
      ingress: Boolean(s.ingress),
      create: { virtualMs: createMs, apiCalls: created.apiCalls, readinessProbes: probes, nodesReady: created.nodesReady, ...(warnings.length ? { warnings: [...warnings] } : {}) },
      noopRerun: { apiCalls: noop.apiCalls },
      delete: { virtualMs: deleteMs, apiCalls: deleted.apiCalls },
    };
    if (options.resources) {
      line.create.realMs = createReal;
      line.create.cpuMs = Math.round((createCpu.user + createCpu.system) / 1000);
      line.total = {
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        realMs: Date.now() - real0,
        peakRssMb: Math.round(peakRss / 1048576),
      };
    }
    return line;
  }
}

async function main() {
  const quick = process.argv.includes('--quick');
  const cp = criticalPath(defaultTimings);
  const lb = deleteLowerBound(defaultTimings);
  print({
    bench: 'cluster',
    criticalPath: cp.totalMs,
    formula: cp.formula,
    terms: cp.terms,
    timings: defaultTimings,
  });
  print({ bench: 'cluster', deleteLowerBound: lb.totalMs, formula: lb.formula, terms: lb.terms });

  const small = await measure('3 control planes + 3 nodes + ingress', spec('bench', 3, 1, 3, true));
  small.create.criticalPathMs = cp.totalMs;
  small.create.ratio = Number((small.create.virtualMs / cp.totalMs).toFixed(3));
  small.create.target = '<= 1.03';
  small.delete.lowerBoundMs = lb.totalMs;
  small.delete.ratio = Number((small.delete.virtualMs / lb.totalMs).toFixed(3));
  small.delete.target = '<= 1.15';
  print(small);

  const wide = await measure(
    '3 control planes + 30 nodes (no-op reads vs 3+3)',
    spec('wide', 3, 1, 30, true),
  );
  print({ ...wide, noopReadsSameAs3x3: wide.noopRerun.apiCalls.read === small.noopRerun.apiCalls.read });

  if (!quick) {
    const big = await measure(
      '1 control plane + 20 node groups x 50 nodes',
      spec('big', 1, 20, 50, false),
      { resources: true },
    );
    print(big);
  }
  fs.rmSync(home, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  fs.rmSync(home, { recursive: true, force: true });
  process.exit(1);
});
