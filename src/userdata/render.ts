// Renders an instance's EC2 user data: a gzip-compressed cloud-init multipart message whose
// cloud-config part writes the static scripts and units of `userdata/` plus one per-instance
// /etc/k3sctl/config.env (every value validated and shell-quoted), and whose script part runs
// the bootstrap. Output is deterministic (fixed boundary, gzip mtime 0) so golden files are stable.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { INSTANCE_ID_NODE_LABEL, TagKeys } from '../aws/tags';
import { InternalError, UserError } from '../core/errors';
import { isK3sVersion, isLabelKey, isLabelValue, isTlsSan, k3sArgProblem, taintProblem } from '../config/k3s';
import { names } from '../aws/names';
import { validateClusterName, validateGroupName } from '../config/names';

export interface InstanceBootstrapConfig {
  cluster: string;
  role: 'control-plane' | 'node';
  group: string;
  region: string;
  /** e.g. v1.31.4+k3s1 */
  k3sVersion: string;
  /** Extra k3s arguments, each one argv element (`--flag=value`). */
  k3sArgs: string[];
  labels: Record<string, string>;
  /** key=value:Effect or key:Effect */
  taints: string[];
  tlsSans: string[];
  serverTokenParameter: string;
  agentTokenParameter: string;
  initializedParameter: string;
  /** SSM path under which a failed bootstrap writes `PREFIX/INSTANCE_ID` (the reason). */
  bootstrapFailurePrefix: string;
  lifecycleHookName: string;
}

export interface RenderedUserData {
  base64: string;
  /** Size of the raw (gzip) user data; EC2 refuses more than MAX_USER_DATA_BYTES. */
  rawBytes: number;
  /** sha256 (hex) of the raw user data. */
  sha256: string;
}

/** EC2's limit on raw user data (before base64). */
export const MAX_USER_DATA_BYTES = 16384;

const USERDATA_DIR = path.resolve(__dirname, '../../userdata');
export const MIME_BOUNDARY = '==K3SCTL-USERDATA-BOUNDARY==';

type Role = InstanceBootstrapConfig['role'];

interface StaticFile {
  source: string;
  target: string;
  mode: '0755' | '0644';
  roles: Role[];
}

const BOTH: Role[] = ['control-plane', 'node'];
/** What every instance gets, and where. */
export const STATIC_FILES: readonly StaticFile[] = [
  { source: 'lib/common.sh', target: '/usr/local/lib/k3sctl/common.sh', mode: '0644', roles: BOTH },
  { source: 'bin/k3sctl-bootstrap', target: '/usr/local/bin/k3sctl-bootstrap', mode: '0755', roles: BOTH },
  { source: 'bin/k3sctl-k3s-exec', target: '/usr/local/bin/k3sctl-k3s-exec', mode: '0755', roles: BOTH },
  {
    source: 'bin/k3sctl-server-join',
    target: '/usr/local/bin/k3sctl-server-join',
    mode: '0755',
    roles: ['control-plane'],
  },
  {
    source: 'bin/k3sctl-leave-handler',
    target: '/usr/local/bin/k3sctl-leave-handler',
    mode: '0755',
    roles: ['control-plane'],
  },
  {
    source: 'systemd/k3s.service',
    target: '/etc/systemd/system/k3s.service',
    mode: '0644',
    roles: ['control-plane'],
  },
  {
    source: 'systemd/k3sctl-leave-handler.service',
    target: '/etc/systemd/system/k3sctl-leave-handler.service',
    mode: '0644',
    roles: ['control-plane'],
  },
  {
    source: 'systemd/k3sctl-leave-handler.timer',
    target: '/etc/systemd/system/k3sctl-leave-handler.timer',
    mode: '0644',
    roles: ['control-plane'],
  },
  {
    source: 'bin/k3sctl-discover-control-plane',
    target: '/usr/local/bin/k3sctl-discover-control-plane',
    mode: '0755',
    roles: ['node'],
  },
  {
    source: 'systemd/k3s-agent.service',
    target: '/etc/systemd/system/k3s-agent.service',
    mode: '0644',
    roles: ['node'],
  },
  {
    source: 'systemd/k3s-agent-discover.conf',
    target: '/etc/systemd/system/k3s-agent.service.d/10-k3sctl-discover.conf',
    mode: '0644',
    roles: ['node'],
  },
];

export const CONFIG_ENV_PATH = '/etc/k3sctl/config.env';
const BOOTSTRAP_SCRIPT = '#!/bin/bash\nset -euo pipefail\nexec /usr/local/bin/k3sctl-bootstrap\n';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const SSM_NAME = /^\/[A-Za-z0-9_.\-/]{1,2047}$/;
const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;

function fail(field: string, message: string, suggestion?: string): never {
  throw new UserError(`${field}: ${message}`, suggestion, field);
}

function validateTaint(taint: string, field: string): void {
  const problem = taintProblem(taint);
  if (problem) fail(field, problem, 'e.g. dedicated=gpu:NoSchedule');
}

function validateParameter(field: string, value: string, cluster: string): void {
  if (!SSM_NAME.test(value)) fail(field, `'${value}' is not an SSM parameter name`);
  const prefix = `${names.ssmPrefix(cluster)}/`;
  if (!value.startsWith(prefix)) {
    fail(
      field,
      `'${value}' is outside the cluster's SSM path ${prefix} (the instance roles are scoped to it)`,
    );
  }
}

/** Throws a UserError naming the first invalid field. */
export function validateBootstrapConfig(config: InstanceBootstrapConfig): void {
  validateClusterName(config.cluster, 'cluster');
  if (config.role !== 'control-plane' && config.role !== 'node') {
    fail('role', `'${String(config.role)}' must be 'control-plane' or 'node'`);
  }
  validateGroupName(config.group, 'group');
  if (!REGION.test(config.region))
    fail('region', `'${config.region}' is not an AWS region name`, 'e.g. us-east-1');
  if (!isK3sVersion(config.k3sVersion)) {
    fail('k3sVersion', `'${config.k3sVersion}' is not a k3s release version`, 'use the form v1.31.4+k3s1');
  }
  config.k3sArgs.forEach((arg, i) => {
    const problem = k3sArgProblem(arg);
    if (problem) fail(`k3sArgs[${i}]`, problem);
  });
  for (const [key, value] of Object.entries(config.labels)) {
    const field = `labels[${JSON.stringify(key)}]`;
    if (!isLabelKey(key)) fail(field, `'${key}' is not a valid Kubernetes label key`);
    if (!isLabelValue(value)) {
      fail(
        field,
        `'${value}' is not a valid Kubernetes label value (at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)`,
      );
    }
  }
  config.taints.forEach((t, i) => validateTaint(t, `taints[${i}]`));
  config.tlsSans.forEach((san, i) => {
    if (!isTlsSan(san)) fail(`tlsSans[${i}]`, `'${san}' is neither a DNS name nor an IP address`);
  });
  validateParameter('serverTokenParameter', config.serverTokenParameter, config.cluster);
  validateParameter('agentTokenParameter', config.agentTokenParameter, config.cluster);
  validateParameter('initializedParameter', config.initializedParameter, config.cluster);
  validateParameter('bootstrapFailurePrefix', config.bootstrapFailurePrefix, config.cluster);
  if (!HOOK_NAME.test(config.lifecycleHookName))
    fail('lifecycleHookName', `'${config.lifecycleHookName}' is not a lifecycle hook name`);
}

/** POSIX single-quoting: the value is inert whatever it contains. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function shellArray(values: string[]): string {
  return `(${values.map(shellQuote).join(' ')})`;
}

/** The sourceable /etc/k3sctl/config.env (no validation: renderUserData validates first). */
export function renderConfigEnv(config: InstanceBootstrapConfig): string {
  const scalars: [string, string][] = [
    ['K3SCTL_CLUSTER', config.cluster],
    ['K3SCTL_ROLE', config.role],
    ['K3SCTL_GROUP', config.group],
    ['K3SCTL_REGION', config.region],
    ['K3SCTL_K3S_VERSION', config.k3sVersion],
    ['K3SCTL_SERVER_TOKEN_PARAMETER', config.role === 'control-plane' ? config.serverTokenParameter : ''],
    ['K3SCTL_AGENT_TOKEN_PARAMETER', config.agentTokenParameter],
    ['K3SCTL_INITIALIZED_PARAMETER', config.initializedParameter],
    ['K3SCTL_FAILURE_PARAMETER_PREFIX', config.bootstrapFailurePrefix],
    ['K3SCTL_LIFECYCLE_HOOK_NAME', config.lifecycleHookName],
    ['K3SCTL_TAG_CLUSTER', TagKeys.cluster],
    ['K3SCTL_TAG_ROLE', TagKeys.role],
    ['K3SCTL_TAG_GROUP', TagKeys.group],
    ['K3SCTL_INSTANCE_LABEL', INSTANCE_ID_NODE_LABEL],
  ];
  const arrays: [string, string[]][] = [
    ['K3SCTL_K3S_ARGS', config.k3sArgs],
    ['K3SCTL_NODE_LABELS', Object.entries(config.labels).map(([k, v]) => `${k}=${v}`)],
    ['K3SCTL_NODE_TAINTS', config.taints],
    ['K3SCTL_TLS_SANS', config.tlsSans],
  ];
  const lines = ['# k3sctl instance configuration (rendered by k3sctl; sourced by /usr/local/bin/k3sctl-*)'];
  for (const [k, v] of scalars) lines.push(`${k}=${shellQuote(v)}`);
  for (const [k, v] of arrays) lines.push(`${k}=${shellArray(v)}`);
  return `${lines.join('\n')}\n`;
}

function readStatic(source: string): string {
  try {
    return readFileSync(path.join(USERDATA_DIR, source), 'utf8');
  } catch (error) {
    throw new InternalError(
      `userdata file ${source} is missing from ${USERDATA_DIR}: ${(error as Error).message}`,
    );
  }
}

/** The cloud-config part: write_files for the role's static files and config.env. */
export function renderCloudConfig(config: InstanceBootstrapConfig): string {
  const files: { path: string; owner: string; permissions: string; content: string }[] = STATIC_FILES.filter(
    (f) => f.roles.includes(config.role),
  ).map((f) => ({
    path: f.target,
    owner: 'root:root',
    permissions: f.mode,
    content: readStatic(f.source),
  }));
  files.push({
    path: CONFIG_ENV_PATH,
    owner: 'root:root',
    permissions: '0600',
    content: renderConfigEnv(config),
  });
  return `#cloud-config\n${stringify({ write_files: files }, { lineWidth: 0, blockQuote: 'literal' })}`;
}

function mimePart(contentType: string, filename: string, body: string): string {
  return [
    `--${MIME_BOUNDARY}`,
    `Content-Type: ${contentType}; charset="us-ascii"`,
    'MIME-Version: 1.0',
    'Content-Transfer-Encoding: 7bit',
    `Content-Disposition: attachment; filename="${filename}"`,
    '',
    body,
  ].join('\n');
}

/** The uncompressed multipart message (what the golden files hold). */
export function renderMultipart(config: InstanceBootstrapConfig): string {
  const cloudConfig = renderCloudConfig(config);
  for (const body of [cloudConfig, BOOTSTRAP_SCRIPT]) {
    if (body.includes(MIME_BOUNDARY)) throw new InternalError('a user data part contains the MIME boundary');
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(body)) throw new InternalError('user data parts must be ASCII');
  }
  return [
    `Content-Type: multipart/mixed; boundary="${MIME_BOUNDARY}"`,
    'MIME-Version: 1.0',
    '',
    mimePart('text/cloud-config', 'cloud-config.yaml', cloudConfig),
    mimePart('text/x-shellscript', 'k3sctl-bootstrap.sh', BOOTSTRAP_SCRIPT),
    `--${MIME_BOUNDARY}--`,
    '',
  ].join('\n');
}

/** Validated, gzip-compressed, base64-encoded user data; throws when it exceeds 16 KB. */
export function renderUserData(config: InstanceBootstrapConfig): RenderedUserData {
  validateBootstrapConfig(config);
  // Node's gzip header carries mtime 0, so equal input gives equal bytes.
  const raw = gzipSync(Buffer.from(renderMultipart(config), 'utf8'), { level: 9 });
  if (raw.length > MAX_USER_DATA_BYTES) {
    throw new UserError(
      `user data for ${config.cluster}/${config.group} is ${raw.length} bytes compressed; EC2 allows ${MAX_USER_DATA_BYTES}`,
      'use fewer labels, taints, extra k3s arguments or TLS SANs',
      'userData',
    );
  }
  return {
    base64: raw.toString('base64'),
    rawBytes: raw.length,
    sha256: createHash('sha256').update(raw).digest('hex'),
  };
}
