// Use case: fetch a cluster's kubeconfig (`k3sctl kubeconfig CLUSTER`). Finds a running control
// plane by tags, reads /etc/rancher/k3s/k3s.yaml over SSH or SSM Run Command, renames its entries
// and points them at the instance, then merges them into the user's kubeconfig (or prints / writes
// a file of their own). Nothing in AWS changes (SSM SendCommand creates nothing to undo), so this is
// not a journaled run. The fetched file holds cluster-admin credentials: it is never logged.
import { validateClusterName } from '../../config/names';
import { awsErrorCode } from '../../core/errors';
import type { WorkflowDeps } from '../deps';
import { KubeconfigError } from '../../kube/errors';
import { readKnownHosts, knownKeyTypes } from '../../kube/knownHosts';
import {
  checkKubeconfigTarget,
  kubeconfigTargetPath,
  mergeKubeconfig,
  readKubeconfigFile,
  writeFileAtomic0600,
} from '../../kube/merge';
import {
  defaultContextName,
  parseFetchedKubeconfig,
  renderStandaloneKubeconfig,
  rewriteEntries,
  type KubeconfigEntries,
} from '../../kube/rewrite';
import {
  DEFAULT_KUBECONFIG_PATH,
  formatEndpoint,
  parseBastion,
  readFileOverSsh,
  readIdentityFile,
  type HostKeyOutcome,
} from '../../kube/ssh';
import { countAgentIdentities } from '../../kube/sshAgent';
import {
  defaultLoginUser,
  findControlPlaneInstances,
  findImageName,
  type ControlPlaneInstance,
} from '../../resources/controlPlaneInstance';
import { findConsoleHostKeys } from '../../resources/consoleOutput';
import { describeSsmAgent, runShellCommand } from '../../resources/ssmCommand';
import * as fs from 'node:fs';
import * as path from 'node:path';

export { kubeconfigTargetPath };

export type KubeconfigTransport = 'ssh' | 'ssm';

export type KubeconfigDestination =
  /** Merge into a kubeconfig (the first file of $KUBECONFIG or ~/.kube/config). */
  | { mode: 'merge'; file: string; setCurrent: boolean; field?: string }
  /** A kubeconfig of its own holding only this cluster (overwritten). */
  | { mode: 'write'; file: string; field?: string }
  /** Return the kubeconfig for the caller to print on stdout. */
  | { mode: 'print' };

export interface KubeconfigSshOptions {
  /** Login user; by default the AMI's (ec2-user on Amazon Linux, ubuntu on Ubuntu). */
  user?: string;
  identityFile?: string;
  /** The ssh-agent socket (SSH_AUTH_SOCK). */
  agentSocket?: string;
  port?: number;
  /** Read with `sudo -n` (default true: the k3s file is root-only). */
  sudo?: boolean;
  /** `[user@]host[:port]` of a jump host. */
  bastion?: string;
  /** Default $K3SCTL_HOME/known_hosts. */
  knownHostsFile?: string;
  acceptNewHostKey?: boolean;
  readyTimeoutMs?: number;
  /** Keys tried with an explicit `via: 'ssh'` when neither an identity nor an agent key is given (~/.ssh/id_*). */
  defaultIdentityFiles?: string[];
}

export interface KubeconfigSpec {
  cluster: string;
  /** Use this control-plane instance instead of the best-ranked one. */
  instanceId?: string;
  /** Default: ssh when a key is given or the agent holds one, otherwise ssm. */
  via?: KubeconfigTransport;
  /** Use the private IP for the server address and SSH (VPN or bastion set-ups). */
  privateIp?: boolean;
  /** Context name; default `k3sctl-CLUSTER.REGION`. */
  context?: string;
  destination: KubeconfigDestination;
  /** Where k3s wrote its kubeconfig on the instance. */
  remotePath?: string;
  ssh?: KubeconfigSshOptions;
  /** Asked (interactive runs only) before an unverifiable host key is trusted. */
  confirmHostKey?: (fingerprint: string, address: string) => Promise<boolean>;
  signal?: AbortSignal;
}

export interface KubeconfigResult {
  cluster: string;
  context: string;
  server: string;
  instanceId: string;
  via: KubeconfigTransport;
  /** The kubeconfig file written (merge or write). */
  file?: string;
  printed?: true;
  /** Only for `print`: the kubeconfig text, for the caller's stdout. */
  kubeconfig?: string;
  /** SSH only. */
  address?: string;
  hostKey?: { fingerprint: string; verifiedBy: HostKeyOutcome };
  apiCalls: { read: number; write: number };
}

export async function fetchKubeconfig(deps: WorkflowDeps, spec: KubeconfigSpec): Promise<KubeconfigResult> {
  validateClusterName(spec.cluster, 'CLUSTER');
  // Local preconditions before the first call: the file to write must be writable (and parsable, to merge into).
  if (spec.destination.mode !== 'print') checkKubeconfigTarget(spec.destination.file, spec.destination.mode, spec.destination.field);
  const contextName = spec.context ?? defaultContextName(spec.cluster, deps.region);
  const remotePath = spec.remotePath ?? DEFAULT_KUBECONFIG_PATH;
  const describeCommand = `k3sctl cluster describe ${spec.cluster} --region ${deps.region}`;

  const instance = await step(deps, 'control-plane', `find a running control plane of ${spec.cluster}`, () =>
    pickControlPlane(deps, spec),
  );
  const apiAddress = spec.privateIp ? instance.privateIp : instance.publicIp;
  if (!apiAddress) {
    throw new KubeconfigError(
      'no-address',
      `control plane ${instance.instanceId} has no ${spec.privateIp ? 'private' : 'public'} IP address`,
      spec.privateIp ? undefined : 'use --private-ip when you reach the VPC through a VPN or bastion',
    );
  }

  const via = spec.via ?? (await defaultTransport(deps, spec));
  let text: string;
  let source: string;
  let sshFacts: Pick<KubeconfigResult, 'address' | 'hostKey'> = {};
  if (via === 'ssh') {
    const read = await readOverSsh(deps, spec, instance, remotePath, describeCommand);
    text = read.content;
    source = `${read.address}:${remotePath}`;
    sshFacts = { address: read.address, hostKey: read.hostKey };
  } else {
    text = await step(deps, 'read', `read ${remotePath} on ${instance.instanceId} over SSM`, () =>
      readOverSsm(deps, spec, instance, remotePath, describeCommand),
    );
    source = `${instance.instanceId}:${remotePath}`;
  }

  const entries: KubeconfigEntries = rewriteEntries(parseFetchedKubeconfig(text, source), {
    address: apiAddress,
    contextName,
  });
  const base = {
    cluster: spec.cluster,
    context: contextName,
    server: entries.cluster.cluster.server,
    instanceId: instance.instanceId,
    via,
    ...sshFacts,
  };
  const dest = spec.destination;
  if (dest.mode === 'print') {
    return {
      ...base,
      printed: true,
      kubeconfig: renderStandaloneKubeconfig(entries),
      apiCalls: deps.clients.calls.snapshot(),
    };
  }
  const file = await step(
    deps,
    'write',
    dest.mode === 'merge' ? `merge context ${contextName} into ${dest.file}` : `write ${dest.file}`,
    async () => {
      const content =
        dest.mode === 'merge'
          ? mergeKubeconfig(readKubeconfigFile(dest.file), entries, {
              setCurrent: dest.setCurrent,
              file: dest.file,
            })
          : renderStandaloneKubeconfig(entries);
      return writeFileAtomic0600(dest.file, content);
    },
  );
  return { ...base, file, apiCalls: deps.clients.calls.snapshot() };
}

async function step<T>(deps: WorkflowDeps, key: string, title: string, fn: () => Promise<T>): Promise<T> {
  deps.events.emit({ kind: 'step-start', key, title });
  try {
    const value = await fn();
    deps.events.emit({ kind: 'step-done', key, title });
    return value;
  } catch (error) {
    deps.events.emit({
      kind: 'step-fail',
      key,
      title,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}

async function pickControlPlane(deps: WorkflowDeps, spec: KubeconfigSpec): Promise<ControlPlaneInstance> {
  const candidates = await findControlPlaneInstances(deps.clients, spec.cluster);
  if (candidates.length === 0) {
    throw new KubeconfigError(
      'no-control-plane',
      `cluster ${spec.cluster} has no running control-plane instance in ${deps.region}`,
      `check the cluster and region with \`k3sctl cluster describe ${spec.cluster} --region ${deps.region}\` (or \`k3sctl cluster list\`)`,
    );
  }
  if (spec.instanceId) {
    const chosen = candidates.find((c) => c.instanceId === spec.instanceId);
    if (!chosen) {
      throw new KubeconfigError(
        'no-control-plane',
        `${spec.instanceId} is not a running control plane of cluster ${spec.cluster}; running control planes: ${candidates.map(describeCandidate).join(', ')}`,
        'pick one of those with --instance-id, or omit it',
      );
    }
    return chosen;
  }
  return candidates[0];
}

function describeCandidate(c: ControlPlaneInstance): string {
  return `${c.instanceId} (${c.lifecycleState ?? 'not in an Auto Scaling group'})`;
}

async function defaultTransport(deps: WorkflowDeps, spec: KubeconfigSpec): Promise<KubeconfigTransport> {
  if (spec.ssh?.identityFile) return 'ssh';
  // In the sandbox only instances mapped to a local SSH server answer; an agent key alone is no reason to try.
  if (deps.sandbox) return 'ssm';
  return (await countAgentIdentities(spec.ssh?.agentSocket)) > 0 ? 'ssh' : 'ssm';
}

async function readOverSsh(
  deps: WorkflowDeps,
  spec: KubeconfigSpec,
  instance: ControlPlaneInstance,
  remotePath: string,
  describeCommand: string,
): Promise<{
  content: string;
  address: string;
  hostKey: { fingerprint: string; verifiedBy: HostKeyOutcome };
}> {
  const o = spec.ssh ?? {};
  const user =
    o.user ??
    defaultLoginUser(instance.imageId ? await findImageName(deps.clients, instance.imageId) : undefined);
  const bastion = o.bastion ? parseBastion(o.bastion, user) : undefined;
  // Through a bastion (or a VPN with --private-ip) the instance is reached on its private address.
  const host = bastion || spec.privateIp ? instance.privateIp : instance.publicIp;
  if (!host) {
    throw new KubeconfigError(
      'no-address',
      `control plane ${instance.instanceId} has no public IP address to SSH to`,
      'use --private-ip or --bastion, or --via ssm',
    );
  }
  const target = { host, port: o.port ?? 22, user };
  const address = formatEndpoint(target);
  const knownHostsFile = o.knownHostsFile ?? path.join(deps.home, 'known_hosts');

  let privateKey = o.identityFile ? readIdentityFile(o.identityFile) : undefined;
  const agent = o.agentSocket && (await countAgentIdentities(o.agentSocket)) > 0 ? o.agentSocket : undefined;
  if (!privateKey && !agent) {
    const fallback = (o.defaultIdentityFiles ?? []).find((f) => fs.existsSync(f));
    if (!fallback) {
      throw new KubeconfigError(
        'no-ssh-key',
        `no SSH key to log in to ${address}: no --identity was given and ssh-agent holds no key`,
        'give --identity KEY (the private key of the instance key pair), load it with ssh-add, or use --via ssm',
        address,
      );
    }
    privateKey = readIdentityFile(fallback);
  }

  // Out-of-band check for a first contact only: a host already in known_hosts is checked against it.
  const firstContact = knownKeyTypes(readKnownHosts(knownHostsFile), target.host, target.port).length === 0;
  const consoleFingerprints = firstContact
    ? (await findConsoleHostKeys(deps.clients, instance.instanceId)).map((k) => k.fingerprint)
    : [];

  const read = await step(
    deps,
    'read',
    `read ${remotePath} as ${address}${bastion ? ` via ${formatEndpoint(bastion)}` : ''}`,
    () =>
      readFileOverSsh({
        signal: spec.signal,
        target,
        bastion,
        privateKey,
        agent,
        sudo: o.sudo ?? true,
        remotePath,
        readyTimeoutMs: o.readyTimeoutMs,
        hostKeys: {
          knownHostsFile,
          acceptNew: o.acceptNewHostKey ?? false,
          consoleFingerprints,
          confirm: spec.confirmHostKey,
        },
        hints: { keyName: instance.keyName, instanceId: instance.instanceId, describeCommand },
      }),
  );
  if (read.hostKey.verifiedBy !== 'known_hosts') {
    const how = {
      console: 'matched the console output',
      accepted: 'accepted as new',
      confirmed: 'confirmed',
    }[read.hostKey.verifiedBy];
    deps.events.emit({
      kind: 'log',
      level: 'info',
      message: `recorded host key ${read.hostKey.fingerprint} of ${target.host}:${target.port} in ${knownHostsFile} (${how})`,
    });
  }
  return { content: read.content, address, hostKey: read.hostKey };
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function readOverSsm(
  deps: WorkflowDeps,
  spec: KubeconfigSpec,
  instance: ControlPlaneInstance,
  remotePath: string,
  describeCommand: string,
): Promise<string> {
  const id = instance.instanceId;
  const offline = (status: string) =>
    new KubeconfigError(
      'ssm-agent-offline',
      `the SSM agent of ${id} is not online (${status}), so SSM Run Command cannot reach it`,
      'the instance needs its SSM agent running, the k3sctl-ssm-agent policy on its role (`k3sctl cluster create` again restores it) and a route to SSM; ' +
        `a just-started instance registers within a minute or two (\`${describeCommand}\`); or use --via ssh --identity KEY`,
      id,
    );
  const agent = await describeSsmAgent(deps.clients, id);
  if (!agent.online) throw offline(agent.pingStatus);
  let result;
  try {
    // Run as root by SSM: no sudo needed.
    result = await runShellCommand(deps, id, [`cat ${shellQuote(remotePath)}`], {
      comment: 'k3sctl kubeconfig',
      signal: spec.signal,
    });
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidInstanceId') throw offline('not reachable by SendCommand');
    throw error;
  }
  if (result.status === 'Success' && result.exitCode === 0) {
    if (result.truncated) {
      throw new KubeconfigError(
        'command-failed',
        `the output of ${remotePath} on ${id} is longer than SSM returns (24,000 characters)`,
        'use --via ssh',
        id,
      );
    }
    return result.stdout;
  }
  const stderr = result.stderr.trim();
  if (/No such file or directory/.test(stderr)) {
    throw new KubeconfigError(
      'file-missing',
      `k3s is not up yet on ${id}: ${remotePath} does not exist`,
      `wait a minute and run this again; \`${describeCommand}\` shows whether the control plane is Ready`,
      id,
    );
  }
  const firstLine = stderr.split('\n')[0];
  throw new KubeconfigError(
    'command-failed',
    `reading ${remotePath} on ${id} over SSM ended ${result.status}${result.exitCode >= 0 ? ` (exit code ${result.exitCode})` : ''}${firstLine ? `: ${firstLine}` : ''}`,
    `see command ${result.commandId} in the SSM console, or use --via ssh`,
    id,
  );
}
