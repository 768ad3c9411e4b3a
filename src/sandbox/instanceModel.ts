// The instance side of the simulated account: how a simulated instance behaves once EC2 says it is
// running, matching what the real user data (userdata/) does on a real machine.
//
// Timings (virtual ms, from sb.behavior.timings):
//   launch --instanceBootMs (+ slowBoot)--> running
//   running --k3sServerReadyMs--> control plane (`k3sctl.io/role=control-plane`) Ready; it then holds
//                                 /etc/rancher/k3s/k3s.yaml and answers kubectl
//   running --k3sAgentReadyMs--> node (`k3sctl.io/role=node`) Ready, but never before the first control
//                                 plane of its cluster is Ready (agents join through a server)
//   running + 10 s --> SSM agent Online (when the instance has an instance profile)
//   never Ready: instances named (id, Auto Scaling group or `*`) in behavior.neverHealthy
//   shutting-down / terminated instances are gone from the cluster (the leave handler deleted the node).
//
// What instances write (applyInstanceSideWrites, on every tick), as userdata/bin does:
//   the first control plane in election order claims the cluster's `initialized` parameter when it
//     starts (`claimed-by=ID at=TIME`, K3SCTL_INITIALIZED_PARAMETER of its config.env), and a control
//     plane Ready while it is absent or only claimed records `initialized-by=ID at=TIME` there;
//   a control plane of a cluster recorded as initialised before any of its live servers started
//     (no server to join: e.g. a re-created cluster whose old marker survived) never runs k3s and
//     gives up after JOIN_GIVE_UP_MS, refusing to initialise a second, empty cluster;
//   a bootstrap that fails for good (behavior.bootstrapFails, or the refusal above) records why in
//     K3SCTL_FAILURE_PARAMETER_PREFIX/INSTANCE_ID and marks the instance Unhealthy in its group.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { behaviorApplies, type SandboxContext } from './account';
import { INSTANCE_ID_NODE_LABEL, TagKeys, tagValue } from '../aws/tags';
import { getInstance, listInstances, type SbInstance } from './services/ec2';
import { privateDnsName } from './services/ec2/instances';
import type { Ec2State } from './services/ec2/state';
import { instanceTypeInfo } from './services/ec2/catalog';
import { peekParameter, putParameterInternal } from './services/ssm/parameters';
import { setInstanceHealthInternal } from './services/autoscaling';

export const SSM_AGENT_ONLINE_MS = 10_000;
export const DEFAULT_K3S_VERSION = 'v1.31.4+k3s1';
export const KUBECONFIG_PATH = '/etc/rancher/k3s/k3s.yaml';

export type K3sRole = 'server' | 'agent';

export function k3sRoleOf(inst: Pick<SbInstance, 'Tags'>): K3sRole | undefined {
  const role = tagValue(inst.Tags, TagKeys.role);
  if (role === 'control-plane') return 'server';
  if (role === 'node') return 'agent';
  return undefined;
}

function clusterOf(inst: Pick<SbInstance, 'Tags'>): string | undefined {
  return tagValue(inst.Tags, TagKeys.cluster);
}

function groupOf(inst: Pick<SbInstance, 'Tags'>): string | undefined {
  return tagValue(inst.Tags, 'aws:autoscaling:groupName');
}

function isLive(inst: SbInstance): boolean {
  return inst.state === 'running';
}

/** How long a control plane that finds no server to join retries before giving up (40 attempts, 15 s apart). */
export const JOIN_GIVE_UP_MS = 10 * 60_000;

/** The instance's bootstrap fails for good when k3s would be Ready (behavior.bootstrapFails). */
function failsBootstrap(ctx: SandboxContext, inst: Pick<SbInstance, 'InstanceId' | 'Tags'>): boolean {
  return behaviorApplies(ctx.sb.behavior.bootstrapFails, inst.InstanceId, groupOf(inst));
}

function neverReady(ctx: SandboxContext, inst: Pick<SbInstance, 'InstanceId' | 'Tags'>): boolean {
  return behaviorApplies(ctx.sb.behavior.neverHealthy, inst.InstanceId, groupOf(inst)) || failsBootstrap(ctx, inst);
}

function serverReadyAt(ctx: SandboxContext, inst: SbInstance): number | undefined {
  if (neverReady(ctx, inst) || joinDecision(ctx, inst) === 'refused') return undefined;
  return inst.runningAt + ctx.sb.behavior.timings.k3sServerReadyMs;
}

function isLiveServerOf(i: Pick<SbInstance, 'state' | 'Tags'>, cluster: string | undefined): boolean {
  return (i.state === 'pending' || i.state === 'running') && clusterOf(i) === cluster && k3sRoleOf(i) === 'server';
}

/**
 * A value of the `initialized` parameter that means "a cluster was created under this name"
 * (k3sctl-server-join): not a claim of the election (`claimed-by=ID ...`, written before initialising),
 * nor empty or false.
 */
function isInitializedValue(value: string): boolean {
  return value !== '' && !/^(false|0|no|none)$/i.test(value) && !/^claimed-by=/.test(value);
}

/** The region's instances as stored (read them, never change them outside applyInstanceSideWrites). */
function storedInstances(ctx: SandboxContext): SbInstance[] {
  return Object.values(ctx.sb.existingServiceState<Ec2State>('ec2', ctx.region)?.instances ?? {});
}

/**
 * What a control plane decides when it starts (k3sctl-server-join): `member` when its cluster's
 * `initialized` parameter was unset when it started (it initialises the cluster or joins the one that
 * does) or when an older server of the cluster is Ready to be joined within JOIN_GIVE_UP_MS; otherwise
 * `refused`: the cluster was recorded as initialised but no server holds it (a re-created cluster
 * whose old marker survived), and it never initialises a second, empty one. Memoised on the stored
 * instance once it runs (instance.k3sJoin), so a decision never changes when older servers are gone.
 */
function joinDecision(ctx: SandboxContext, inst: SbInstance, all: SbInstance[] = storedInstances(ctx)): 'member' | 'refused' {
  if (inst.k3sJoin) return inst.k3sJoin;
  const name = instanceConfig(inst).K3SCTL_INITIALIZED_PARAMETER;
  const marker = name ? peekParameter(ctx, name) : undefined;
  if (!marker || !isInitializedValue(marker.value) || marker.modifiedAt >= inst.runningAt) return 'member';
  const cluster = clusterOf(inst);
  const deadline = inst.runningAt + JOIN_GIVE_UP_MS;
  const older = all.filter(
    (p) =>
      p.InstanceId !== inst.InstanceId &&
      clusterOf(p) === cluster &&
      k3sRoleOf(p) === 'server' &&
      (p.runningAt < inst.runningAt || (p.runningAt === inst.runningAt && p.InstanceId < inst.InstanceId)),
  );
  for (const p of older) {
    if (neverReady(ctx, p)) continue;
    const readyAt = p.runningAt + ctx.sb.behavior.timings.k3sServerReadyMs;
    if (readyAt > deadline) continue;
    // Gone before it could be joined (terminated before it was Ready, or before this one started).
    if (p.terminatedAt !== undefined && p.terminatedAt <= Math.max(readyAt, inst.runningAt)) continue;
    if (joinDecision(ctx, p, all) === 'member') return 'member';
  }
  return 'refused';
}

/** When k3s on this instance reports the node Ready (ms), or undefined when it never will (as things stand). */
export function nodeReadyAt(ctx: SandboxContext, inst: SbInstance): number | undefined {
  return readyAtAmong(ctx, inst, () => listInstances(ctx));
}

function readyAtAmong(ctx: SandboxContext, inst: SbInstance, region: () => SbInstance[]): number | undefined {
  const role = k3sRoleOf(inst);
  if (!role || inst.state === 'shutting-down' || inst.state === 'terminated' || inst.state === 'stopped')
    return undefined;
  if (role === 'server') return serverReadyAt(ctx, inst);
  if (neverReady(ctx, inst)) return undefined;
  const cluster = clusterOf(inst);
  const firstServer = region()
    .filter((i) => isLiveServerOf(i, cluster))
    .map((i) => serverReadyAt(ctx, i))
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b)[0];
  if (firstServer === undefined) return undefined;
  return Math.max(inst.runningAt + ctx.sb.behavior.timings.k3sAgentReadyMs, firstServer);
}

// Parsed config.env per user data (a launch template version's, shared by its instances).
const configCache = new Map<string, Record<string, string>>();
const CONFIG_LINE = /^\s*(K3SCTL_[A-Z0-9_]+)=(?:'([^']*)'|"([^"$]*)"|([^\s'"$()]+))\s*$/gm;

/** The values of /etc/k3sctl/config.env the instance's user data carries (K3SCTL_CLUSTER, ...); {} when none. */
export function instanceConfig(inst: Pick<SbInstance, 'UserData'>): Record<string, string> {
  if (!inst.UserData) return {};
  const cached = configCache.get(inst.UserData);
  if (cached) return cached;
  let text = '';
  try {
    let raw = Buffer.from(inst.UserData, 'base64');
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
    text = raw.toString('utf8');
  } catch {
    text = '';
  }
  const config: Record<string, string> = {};
  for (const m of text.matchAll(CONFIG_LINE)) config[m[1]] = m[2] ?? m[3] ?? m[4] ?? '';
  if (configCache.size >= 256) configCache.clear();
  configCache.set(inst.UserData, config);
  return config;
}

/** Why a bootstrap failed for good, one line prefixed by the script that gave up, as report_bootstrap_failure records it. */
function bootstrapFailureReason(ctx: SandboxContext, inst: SbInstance, refused: boolean): string {
  const cluster = clusterOf(inst) ?? '?';
  if (refused) {
    const marker = peekParameter(ctx, instanceConfig(inst).K3SCTL_INITIALIZED_PARAMETER ?? '');
    return `k3sctl-server-join: cluster ${cluster} was initialised (${marker?.value ?? '?'}) but no control plane answered; refusing to --cluster-init a second, empty cluster`;
  }
  return k3sRoleOf(inst) === 'server'
    ? 'k3sctl-server-join: k3s server did not become healthy (sandbox behavior bootstrapFails)'
    : `k3sctl-bootstrap: k3s agent did not join cluster ${cluster} (sandbox behavior bootstrapFails)`;
}

function iso(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The first live control plane of its cluster in election order (launch time, then instance id). */
function isElected(inst: SbInstance, all: SbInstance[]): boolean {
  const cluster = clusterOf(inst);
  return !all.some(
    (p) =>
      p !== inst &&
      isLiveServerOf(p, cluster) &&
      (p.launchedAt < inst.launchedAt || (p.launchedAt === inst.launchedAt && p.InstanceId < inst.InstanceId)),
  );
}

/**
 * The instance side's own writes up to now (see the header): the `initialized` marker, and for a
 * bootstrap that failed for good its reason parameter and Unhealthy status. Run on every tick; reads
 * stored state only (no copies), and writes at the time the instance would have.
 */
export function applyInstanceSideWrites(ctx: SandboxContext): void {
  const all = storedInstances(ctx);
  const now = ctx.sb.now();
  const timings = ctx.sb.behavior.timings;
  for (const inst of all) {
    if (inst.state !== 'running') continue;
    const role = k3sRoleOf(inst);
    if (!role) continue;
    let failAt: number | undefined;
    let refused = false;
    if (failsBootstrap(ctx, inst)) {
      failAt = inst.runningAt + (role === 'server' ? timings.k3sServerReadyMs : timings.k3sAgentReadyMs);
    } else if (role === 'server') {
      inst.k3sJoin ??= joinDecision(ctx, inst, all);
      const markerName = instanceConfig(inst).K3SCTL_INITIALIZED_PARAMETER;
      const readyAt = serverReadyAt(ctx, inst);
      if (inst.k3sJoin === 'refused') {
        refused = true;
        failAt = inst.runningAt + JOIN_GIVE_UP_MS;
      } else if (markerName) {
        const marker = peekParameter(ctx, markerName);
        if (readyAt !== undefined && now >= readyAt && (!marker || !isInitializedValue(marker.value))) {
          putParameterInternal(ctx, markerName, `initialized-by=${inst.InstanceId} at=${iso(readyAt)}`, readyAt);
        } else if (!marker && isElected(inst, all)) {
          // The election's claim, written once when it starts (create-once PutParameter), before k3s runs.
          putParameterInternal(ctx, markerName, `claimed-by=${inst.InstanceId} at=${iso(inst.runningAt)}`, inst.runningAt);
        }
      }
    }
    if (failAt === undefined || now < failAt) continue;
    const prefix = instanceConfig(inst).K3SCTL_FAILURE_PARAMETER_PREFIX;
    const name = prefix ? `${prefix}/${inst.InstanceId}` : undefined;
    if (name && !peekParameter(ctx, name)) putParameterInternal(ctx, name, bootstrapFailureReason(ctx, inst, refused), failAt);
    setInstanceHealthInternal(ctx, inst.InstanceId, 'Unhealthy');
  }
}

export function isNodeReady(ctx: SandboxContext, inst: SbInstance): boolean {
  const at = nodeReadyAt(ctx, inst);
  return isLive(inst) && at !== undefined && ctx.now >= at;
}

/** The k3s version the instance's user data asks for (K3SCTL_K3S_VERSION in config.env), or the default. */
export function k3sVersionOf(inst: Pick<SbInstance, 'UserData'>): string {
  if (!inst.UserData) return DEFAULT_K3S_VERSION;
  let raw = Buffer.from(inst.UserData, 'base64');
  try {
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  } catch {
    return DEFAULT_K3S_VERSION;
  }
  const m = /K3SCTL_K3S_VERSION=["']?([^"'\s]+)/.exec(raw.toString('utf8'));
  return m ? m[1] : DEFAULT_K3S_VERSION;
}

export interface KubeNode {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: {
    name: string;
    uid: string;
    creationTimestamp: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: { providerID: string; podCIDR: string; taints?: { key: string; value?: string; effect: string }[] };
  status: {
    conditions: { type: string; status: string; reason: string; lastTransitionTime: string }[];
    addresses: { type: string; address: string }[];
    nodeInfo: Record<string, string>;
  };
}

function nodeObject(ctx: SandboxContext, inst: SbInstance, readyAt: number, index: number): KubeNode {
  const name = privateDnsName(ctx.region, inst.PrivateIpAddress);
  const arch = instanceTypeInfo(inst.InstanceType)?.architecture === 'arm64' ? 'arm64' : 'amd64';
  const version = k3sVersionOf(inst);
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': inst.InstanceType,
    'topology.kubernetes.io/region': ctx.region,
    'topology.kubernetes.io/zone': inst.AvailabilityZone,
  };
  const group = tagValue(inst.Tags, TagKeys.group);
  if (group) labels[TagKeys.group] = group;
  labels[INSTANCE_ID_NODE_LABEL] = inst.InstanceId;
  if (k3sRoleOf(inst) === 'server') {
    labels['node-role.kubernetes.io/control-plane'] = 'true';
    labels['node-role.kubernetes.io/etcd'] = 'true';
    labels['node-role.kubernetes.io/master'] = 'true';
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: uuidFrom(`node-${inst.InstanceId}`),
      creationTimestamp: new Date(inst.runningAt + 5_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels,
      annotations: { 'k3s.io/internal-ip': inst.PrivateIpAddress, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {
      providerID: `aws:///${inst.AvailabilityZone}/${inst.InstanceId}`,
      podCIDR: `10.42.${index}.0/24`,
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          lastTransitionTime: new Date(readyAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        },
      ],
      addresses: [
        { type: 'InternalIP', address: inst.PrivateIpAddress },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        architecture: arch,
        containerRuntimeVersion: 'containerd://1.7.23-k3s2',
        kernelVersion: '6.1.119-129.201.amzn2023.x86_64',
        kubeProxyVersion: version,
        kubeletVersion: version,
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2023.6.20250101',
      },
    },
  };
}

/** The Ready nodes of a cluster (its instances in this region), as `kubectl get nodes -o json` lists them. */
export function clusterNodes(ctx: SandboxContext, cluster: string): KubeNode[] {
  const all = listInstances(ctx);
  const members = all
    .filter((i) => clusterOf(i) === cluster && k3sRoleOf(i) !== undefined)
    .sort((a, b) => a.launchedAt - b.launchedAt || a.InstanceId.localeCompare(b.InstanceId));
  const nodes: KubeNode[] = [];
  members.forEach((inst, index) => {
    const at = readyAtAmong(ctx, inst, () => all);
    if (isLive(inst) && at !== undefined && ctx.now >= at) nodes.push(nodeObject(ctx, inst, at, index));
  });
  return nodes.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A PEM-looking block whose body is derived from `seed` (not a real key or certificate). */
function fakePem(label: string, seed: string, bytes: number): string {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < bytes; i++)
    chunks.push(createHash('sha256').update(`${seed}/${i}`).digest());
  const body = Buffer.concat(chunks).subarray(0, bytes).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The admin kubeconfig k3s writes on a server, once it is Ready; undefined elsewhere. */
export function kubeconfigFor(ctx: SandboxContext, inst: SbInstance): string | undefined {
  if (k3sRoleOf(inst) !== 'server' || !isNodeReady(ctx, inst)) return undefined;
  const cluster = clusterOf(inst) ?? inst.InstanceId;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  // One CA per cluster (shared by all servers); the admin client certificate is per cluster too.
  const ca = b64(fakePem('CERTIFICATE', `ca/${cluster}`, 380));
  const cert = b64(
    fakePem('CERTIFICATE', `admin/${cluster}`, 420) + fakePem('CERTIFICATE', `client-ca/${cluster}`, 380),
  );
  const key = b64(fakePem('EC PRIVATE KEY', `admin-key/${cluster}`, 121));
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${ca}`,
    '    server: https://127.0.0.1:6443',
    '  name: default',
    'contexts:',
    '- context:',
    '    cluster: default',
    '    user: default',
    '  name: default',
    'current-context: default',
    'kind: Config',
    'preferences: {}',
    'users:',
    '- name: default',
    '  user:',
    `    client-certificate-data: ${cert}`,
    `    client-key-data: ${key}`,
    '',
  ].join('\n');
}

export function isSsmAgentOnline(ctx: SandboxContext, inst: SbInstance): boolean {
  return (
    inst.state === 'running' &&
    inst.IamInstanceProfileArn !== undefined &&
    ctx.now >= inst.runningAt + SSM_AGENT_ONLINE_MS
  );
}

export interface ShellResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const REFUSED =
  'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n';

const NO_FILE = (cmd: string) => `${cmd}: ${KUBECONFIG_PATH}: No such file or directory\n`;

/** Runs one simple command (no operators); `sudo` and a `--kubeconfig` pointing at k3s.yaml are ignored. */
function runOne(ctx: SandboxContext, inst: SbInstance, command: string): ShellResult {
  const line = command
    .trim()
    .replace(/^sudo(\s+-\S+)*\s+/, '')
    .replace(/\s--kubeconfig[= ]\S+/, '')
    .trim()
    .split(/\s+/)
    .join(' ');
  const ok = (stdout = ''): ShellResult => ({ exitCode: 0, stdout, stderr: '' });
  const fail = (stderr: string): ShellResult => ({ exitCode: 1, stdout: '', stderr });
  if (line === '') return ok();
  const kubeconfig = () => kubeconfigFor(ctx, inst);
  if (line === `cat ${KUBECONFIG_PATH}`) {
    const k = kubeconfig();
    return k ? ok(k) : fail(NO_FILE('cat'));
  }
  if (/^base64( -w ?0)? \/etc\/rancher\/k3s\/k3s\.yaml$/.test(line)) {
    const k = kubeconfig();
    return k ? ok(`${Buffer.from(k).toString('base64')}\n`) : fail(NO_FILE('base64'));
  }
  if (/^(test|\[) -[fes] \/etc\/rancher\/k3s\/k3s\.yaml( \])?$/.test(line)) {
    return { exitCode: kubeconfig() ? 0 : 1, stdout: '', stderr: '' };
  }
  const kubectl = /^(?:k3s )?kubectl (.*)$/.exec(line);
  if (kubectl) {
    if (!kubeconfig()) {
      if (k3sRoleOf(inst) === 'server') return fail(REFUSED);
      return fail(
        'error: no configuration has been provided, try setting KUBERNETES_MASTER environment variable\n',
      );
    }
    const args = kubectl[1];
    if (args === 'config view --raw') return ok(kubeconfig());
    if (/^get (nodes|node|no)( -o json| --output[= ]json| -ojson)$/.test(args)) {
      const items = clusterNodes(ctx, clusterOf(inst) ?? '');
      return ok(
        `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 4)}\n`,
      );
    }
    // The compact readiness listing k3sctl asks for (instance-id label and Ready status, gzip + base64:
    // a thousand nodes fit SSM's 24,000-character output limit).
    const compact = /^get nodes --no-headers -o custom-columns='ID:\.metadata\.labels\.k3sctl\\\.io\/instance-id,READY:\.status\.conditions\[\?\(@\.type=="Ready"\)\]\.status' \| gzip -c \| base64 -w ?0$/.exec(args);
    if (compact) {
      const rows = clusterNodes(ctx, clusterOf(inst) ?? '').map((n) => `${n.metadata.labels[INSTANCE_ID_NODE_LABEL] ?? '<none>'}   True\n`);
      return ok(gzipSync(Buffer.from(rows.join(''))).toString('base64'));
    }
    if (/^get (nodes|node|no)$/.test(args)) {
      const rows = clusterNodes(ctx, clusterOf(inst) ?? '').map((n) => {
        const roles = n.metadata.labels['node-role.kubernetes.io/control-plane']
          ? 'control-plane,etcd,master'
          : '<none>';
        const age = `${Math.max(0, Math.floor((ctx.now - Date.parse(n.metadata.creationTimestamp)) / 60_000))}m`;
        return [n.metadata.name, 'Ready', roles, age, n.status.nodeInfo.kubeletVersion];
      });
      const table = [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], ...rows];
      const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
      return ok(
        table
          .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join(''))
          .join('\n') + '\n',
      );
    }
    // cordon, drain, delete node, label... succeed without output in this model.
    return ok();
  }
  if (line === 'hostname' || line === 'hostname -f')
    return ok(`${privateDnsName(ctx.region, inst.PrivateIpAddress)}\n`);
  if (line === 'true') return ok();
  if (line === 'false') return { exitCode: 1, stdout: '', stderr: '' };
  return ok();
}

/**
 * Runs an AWS-RunShellScript command list on the instance as its shell would: lines in order, `&&`
 * and `||` short-circuit, `;` sequences; the exit code is the last command's.
 */
export function runShellScript(ctx: SandboxContext, instanceId: string, commands: string[]): ShellResult {
  const inst = getInstance(ctx, instanceId);
  if (!inst) return { exitCode: 127, stdout: '', stderr: 'instance not found\n' };
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  for (const script of commands) {
    for (const line of script.split('\n')) {
      for (const statement of line.split(';')) {
        const parts = statement.split(/(&&|\|\|)/);
        let skip = false;
        for (let i = 0; i < parts.length; i += 2) {
          const op = i === 0 ? undefined : parts[i - 1];
          if (op === '&&') skip = exitCode !== 0;
          else if (op === '||') skip = exitCode === 0;
          if (skip) continue;
          if (parts[i].trim() === '' && i === 0 && parts.length === 1) continue;
          const r = runOne(ctx, inst, parts[i]);
          stdout += r.stdout;
          stderr += r.stderr;
          exitCode = r.exitCode;
        }
      }
    }
  }
  return { exitCode, stdout, stderr };
}
