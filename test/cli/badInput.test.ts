// Bad input, across every command (README.md, Scripting and CI: exit 2, nothing changed): each malformed input
// exits 2, names the flag or field as the user gave it (`--node-type`, an alias, an environment
// variable, `cluster.yaml:12 nodeType` for a value from the file), and makes no AWS call of any kind,
// reads included. AWS is a local server behind --endpoint-url that counts every request (and answers
// 500), with fake credentials and a region in the environment: its count must not move.
// The table runs in process (test/helpers/inProcessCli.ts: the command classes through oclif), a few
// cases through bin/run.js to prove the real process exit code. Inputs whose check *is* a lookup (a VPC
// name that does not exist) are in badInputLookups.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, runCli } from '../helpers/cli';
import { countingAws, runInProcess, type CountingAws } from '../helpers/inProcessCli';

interface Case {
  /** Command words, arguments and flags; `{dir}` is the case's own directory. */
  argv: string[];
  /** The flag or field as it must appear in the message (and as the JSON `field`). */
  field: string;
  /** More of the message, when the case is about what it says. */
  message?: RegExp;
  /** Files written into `{dir}` first (a name ending in `/` is a directory). */
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** Variables of the base environment this case goes without. */
  unset?: string[];
  /** The case gives its own endpoint (or none): --endpoint-url is not added. */
  ownEndpoint?: boolean;
}

const ENDPOINT = ['blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'alpha'];
const TG_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k3s-demo-ing/0123456789abcdef';
const CERT_EU = 'arn:aws:acm:eu-west-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef';
const c = (argv: string[], field: string, more: Partial<Case> = {}): Case => ({ argv, field, ...more });

const CASES: Case[] = [
  // --- global flags, on commands that take nothing else -----------------------------------------------
  c(['cluster', 'list', '--region', 'us-east'], '--region'),
  c(['alb', 'list', '--region', 'US-EAST-1'], '--region'),
  c(['certificate', 'list', '--region', 'moon-1'], '--region'),
  c(['endpoint', 'list', '--endpoint-url', 'ftp://127.0.0.1'], '--endpoint-url', { ownEndpoint: true }),
  c(['cluster', 'list'], 'AWS_REGION', { env: { AWS_REGION: 'useast1' } }),
  c(['alb', 'list'], 'AWS_DEFAULT_REGION', { env: { AWS_DEFAULT_REGION: 'nowhere' }, unset: ['AWS_REGION'] }),
  c(['certificate', 'list'], 'AWS_ENDPOINT_URL', { env: { AWS_ENDPOINT_URL: 'localhost:4566' }, ownEndpoint: true }),
  c(['endpoint', 'list', '--no-such-flag'], '--no-such-flag'),
  c(['runs', 'list', '--region', 'eu_west_1'], '--region'),
  c(['sandbox', 'status', '--endpoint-url', 'not a url'], '--endpoint-url', { ownEndpoint: true }),
  c(['sandbox', 'reset', '--region', 'mars-north-1a'], '--region'),
  c(['certificate', 'list', '--all', '--nope'], '--nope'),

  // --- cluster create: flags ----------------------------------------------------------------------------
  c(['cluster', 'create', 'Demo'], 'NAME'),
  c(['cluster', 'create', 'a'.repeat(21)], 'NAME'),
  c(['cluster', 'create', 'a--b'], 'NAME'),
  c(['cluster', 'create'], 'NAME'),
  c(['cluster', 'create', 'demo', '--ssh-cidr', '10.0.0.5/16'], '--ssh-cidr', {
    message: /^--ssh-cidr 10\.0\.0\.5\/16 has host bits set; did you mean 10\.0\.0\.0\/16\?$/,
  }),
  c(['cluster', 'create', 'demo', '--ssh-cidr', '10.0.0.0/33'], '--ssh-cidr'),
  c(['cluster', 'create', 'demo', '--ssh-cidr', '203.0.113.0/24', '--ssh-cidr', '198.51.100.7/24'], '--ssh-cidr', {
    message: /did you mean 198\.51\.100\.0\/24\?/,
  }),
  c(['cluster', 'create', 'demo', '--api-cidr', '2001:db8::1/32'], '--api-cidr', { message: /host bits set; did you mean 2001:db8::\/32\?/ }),
  c(['cluster', 'create', 'demo', '--api-cidr', '2001:DB8:0:0::/64'], '--api-cidr', { message: /not in canonical form; did you mean 2001:db8::\/64\?/ }),
  c(['cluster', 'create', 'demo', '--api-cidr', 'everywhere'], '--api-cidr'),
  c(['cluster', 'create', 'demo', '--api-cidr', '10.0.0.0/08'], '--api-cidr', { message: /did you mean 10\.0\.0\.0\/8\?/ }),
  c(['cluster', 'create', 'demo', '--k3s-version', '1.31'], '--k3s-version'),
  c(['cluster', 'create', 'demo', '--k3s-version', 'v1.31.6'], '--k3s-version'),
  c(['cluster', 'create', 'demo', '--node-type', 't3'], '--node-type'),
  c(['cluster', 'create', 'demo', '--node-type', 'T3.MEDIUM'], '--node-type'),
  c(['cluster', 'create', 'demo', '--control-plane-type', 'm5..large'], '--control-plane-type'),
  c(['cluster', 'create', 'demo', '--control-plane-type', 'c5.huge'], '--control-plane-type'),
  c(['cluster', 'create', 'demo', '--control-planes', '2'], '--control-planes'),
  c(['cluster', 'create', 'demo', '--control-planes', '0'], '--control-planes'),
  c(['cluster', 'create', 'demo', '--control-planes', 'three'], '--control-planes'),
  c(['cluster', 'create', 'demo', '--nodes=-1'], '--nodes'),
  c(['cluster', 'create', 'demo', '--nodes', '1.5'], '--nodes'),
  c(['cluster', 'create', 'demo', '--ami', 'ami-xyz'], '--ami'),
  c(['cluster', 'create', 'demo', '--ami', 'ami-0123456789abcdef0', '--os', 'al2023'], '--os'),
  c(['cluster', 'create', 'demo', '--ami-owner', 'amazon'], '--ami-owner'),
  c(['cluster', 'create', 'demo', '--ami-name', '(['], '--ami-name'),
  c(['cluster', 'create', 'demo', '--ami-name', 'al2023-.*', '--ami-owner', 'someone'], '--ami-owner'),
  c(['cluster', 'create', 'demo', '--os', 'windows'], '--os'),
  c(['cluster', 'create', 'demo', '--vpc-id', 'vpc-123'], '--vpc-id'),
  c(['cluster', 'create', 'demo', '--vpc-id', 'vpc-0123456789abcdef0', '--vpc', 'main'], '--vpc'),
  c(['cluster', 'create', 'demo', '--vpc-tag', 'noequals'], '--vpc-tag'),
  c(['cluster', 'create', 'demo', '--subnet-id', 'subnet-xyz'], '--subnet-id'),
  c(['cluster', 'create', 'demo', '--subnet-filter', 'noequals'], '--subnet-filter'),
  c(['cluster', 'create', 'demo', '--subnet-filter', 'availability-zone='], '--subnet-filter'),
  c(['cluster', 'create', 'demo', '--subnet-id', 'subnet-0123456789abcdef0', '--subnet-filter', 'availability-zone=us-east-1a'], '--subnet-filter'),
  c(['cluster', 'create', 'demo', '--label', 'bad key!=x'], '--label'),
  c(['cluster', 'create', 'demo', '--label', 'node-role.kubernetes.io/worker=true'], '--label'),
  c(['cluster', 'create', 'demo', '--label', `app=${'x'.repeat(64)}`], '--label'),
  c(['cluster', 'create', 'demo', '--taint', 'oops'], '--taint'),
  c(['cluster', 'create', 'demo', '--taint', 'k=v:Sometimes'], '--taint'),
  c(['cluster', 'create', 'demo', '--root-volume-size', '4'], '--root-volume-size'),
  c(['cluster', 'create', 'demo', '--root-volume-type', 'gp9'], '--root-volume-type'),
  c(['cluster', 'create', 'demo', '--imds-hop-limit', '0'], '--imds-hop-limit'),
  c(['cluster', 'create', 'demo', '--key-name', 'ключ'], '--key-name'),
  c(['cluster', 'create', 'demo', '--tls-san', 'bad host!'], '--tls-san'),
  c(['cluster', 'create', 'demo', '--k3s-arg', 'disable=traefik'], '--k3s-arg'),
  c(['cluster', 'create', 'demo', '--k3s-arg=--token=abc'], '--k3s-arg'),
  c(['cluster', 'create', 'demo', '--ingress-alb', 'shared'], '--ingress-zone'),
  c(['cluster', 'create', 'demo', '--ingress-alb', TG_ARN, '--ingress-zone', 'example.com'], '--ingress-alb', { message: /target group/ }),
  c(['cluster', 'create', 'demo', '--ingress-alb', 'bad name!', '--ingress-zone', 'example.com'], '--ingress-alb'),
  c(
    ['cluster', 'create', 'demo', '--ingress-alb', 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/0123456789abcdef', '--ingress-zone', 'example.com'],
    '--ingress-alb',
    { message: /is in eu-west-1, but this run is in us-east-1/ },
  ),
  c(['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'not a zone!'], '--ingress-zone'),
  // seed knobs (issue 17): deregistration delay, ingress source CIDRs, CPU credits
  c(['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com', '--ingress-deregistration-delay', '3601'], '--ingress-deregistration-delay', {
    message: /0-3600/,
  }),
  c(['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com', '--ingress-deregistration-delay=-1'], '--ingress-deregistration-delay'),
  c(['cluster', 'create', 'demo', '--ingress-deregistration-delay', '30'], '--ingress-alb'),
  c(['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com', '--ingress-source-cidr', '10.0.0.1/8'], '--ingress-source-cidr', {
    message: /host bits set; did you mean 10\.0\.0\.0\/8\?/,
  }),
  c(['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com', '--ingress-source-cidr', '2001:db8::/129'], '--ingress-source-cidr'),
  c(
    [
      'cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com',
      ...['10.0.0.0/8', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].flatMap((x) => ['--ingress-source-cidr', x]),
    ],
    '--ingress-source-cidr',
    { message: /5 CIDRs, but the ingress rule takes at most 4/ },
  ),
  c(
    ['cluster', 'create', 'demo', '--ingress-zone', 'example.com', ...['a1', 'a2', 'a3', 'a4', 'a5'].flatMap((x) => ['--ingress-alb', x])],
    '--ingress-alb',
    { message: /5 ALBs, but a cluster's ingress takes at most 4/ },
  ),
  c(['cluster', 'create', 'demo', '--ingress-zone', 'example.com', '--ingress-alb', 'a1', '--ingress-alb', 'bad name!'], '--ingress-alb', { message: /'bad name!' is not an ALB name or ARN/ }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:5 ingress.alb[1]', {
    files: { 'cluster.yaml': 'name: demo\ningress:\n  alb:\n    - shared\n    - not an alb!\n  zone: example.com\n' },
  }),
  c(['cluster', 'create', 'demo', '--node-type', 'm5.large', '--node-cpu-credits', 'standard'], '--node-cpu-credits', {
    message: /burstable instance types only .*--node-type is m5\.large/,
  }),
  c(['cluster', 'create', 'demo', '--control-plane-cpu-credits', 'turbo'], '--control-plane-cpu-credits', { message: /standard, unlimited/ }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:3 controlPlaneCpuCredits', {
    files: { 'cluster.yaml': 'name: demo\ncontrolPlaneType: c5.large\ncontrolPlaneCpuCredits: unlimited\n' },
  }),
  c(['cluster', 'create', 'demo', '--node-security-group', 'sg-12345'], '--node-security-group', { message: /not a security group id/ }),
  c(['cluster', 'create', 'demo', '--control-plane-target-group', CERT_EU], '--control-plane-target-group', { message: /not a target group ARN \(it names an ACM certificate\)/ }),
  c(['cluster', 'create', 'demo', '--node-target-group', TG_ARN.replace('us-east-1', 'eu-west-1')], '--node-target-group', { message: /is in eu-west-1/ }),
  c(['cluster', 'create', 'demo', '--node-target-group', 'bad_name'], '--node-target-group'),
  c(
    ['cluster', 'create', 'demo', ...['a', 'b', 'c', 'd', 'e'].flatMap((x) => ['--node-security-group', x])],
    '--node-security-group',
    { message: /5 extra security groups, but at most 4 are allowed/ },
  ),
  c(
    ['cluster', 'create', 'demo', '--ingress-alb', 'shared', '--ingress-zone', 'example.com', ...['a', 'b', 'c', 'd'].flatMap((x) => ['--control-plane-security-group', x])],
    '--control-plane-security-group',
    { message: /at most 3 are allowed/ },
  ),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:4 nodeSecurityGroups[1]', {
    files: { 'cluster.yaml': 'name: demo\nnodeSecurityGroups:\n  - monitoring\n  - sg-xyz\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:1 nodeTargetGroups', {
    files: { 'cluster.yaml': 'nodeTargetGroups: metrics\nname: demo\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:6 ingress.sourceCidrs[0]', {
    files: { 'cluster.yaml': 'name: demo\ningress:\n  alb: shared\n  zone: example.com\n  sourceCidrs:\n    - 10.0.0.5/8\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:5 ingress.deregistrationDelay', {
    files: { 'cluster.yaml': 'name: demo\ningress:\n  alb: shared\n  zone: example.com\n  deregistrationDelay: 4000\n' },
  }),
  c(['cluster', 'create', 'demo', '--wait-timeout', '0s'], '--wait-timeout'),
  c(['cluster', 'create', 'demo', '--wait-timeout', 'soon'], '--wait-timeout'),
  c(['cluster', 'create', 'demo', '--region', 'us-east'], '--region'),
  c(['cluster', 'create', 'demo'], 'K3SCTL_NODE_TYPE', { env: { K3SCTL_NODE_TYPE: 't3' } }),

  // --- doctor: the cluster it checks for is described as cluster create describes it ------------------
  c(['doctor', '--region', 'us-east'], '--region'),
  c(['doctor', 'Demo'], 'NAME'),
  c(['doctor', '--vpc-id', 'vpc-xyz'], '--vpc-id'),
  c(['doctor', '--node-type', 't3'], '--node-type'),
  c(['doctor', '--control-planes', '2'], '--control-planes'),
  c(['doctor', '--subnet-filter', 'availability-zone'], '--subnet-filter'),
  c(['doctor', '-f', '{dir}/c.yaml'], '{dir}/c.yaml:1 nodez', { files: { 'c.yaml': 'nodez: 3\n' }, message: /unknown field/ }),

  // --- cluster create: the file ---------------------------------------------------------------------------
  c(['cluster', 'create', 'demo', '-f', '{dir}/missing.yaml'], '-f'),
  c(['cluster', 'create', 'demo', '--file', '{dir}/'], '--file'),
  c(['cluster', 'create', 'demo', '-f', '{dir}/c.yaml'], '-f', { files: { 'c.yaml': 'name: [demo\n' }, message: /c\.yaml:\d+ is not valid YAML/ }),
  c(['cluster', 'create', 'demo', '-f', '{dir}/c.yaml'], '{dir}/c.yaml:2 nodez', { files: { 'c.yaml': 'name: demo\nnodez: 3\n' }, message: /unknown field/ }),
  c(['cluster', 'create', 'demo', '-f', '{dir}/c.yaml'], '{dir}/c.yaml:1 name', {
    files: { 'c.yaml': 'name: other\nnodes: 1\n' },
    message: /^NAME 'demo' differs from .*c\.yaml:1 name 'other'$/,
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:3 nodeType', {
    files: { 'cluster.yaml': 'name: demo\nnodes: 1\nnodeType: t3\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:5 sshCidrs[1]', {
    files: { 'cluster.yaml': 'name: demo\n# who may SSH\nsshCidrs:\n  - 10.0.0.0/16\n  - 10.1.2.3/16\n' },
    message: /did you mean 10\.1\.0\.0\/16\?/,
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:2 region', { files: { 'cluster.yaml': 'name: demo\nregion: moon-1\n' } }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:2 region', {
    files: { 'cluster.yaml': 'name: demo\nregion: eu_west_1\n' },
    unset: ['AWS_REGION'],
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:2 nodes', { files: { 'cluster.yaml': 'name: demo\nnodes: three\n' } }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:4 controlPlanes', {
    files: { 'cluster.yaml': 'name: demo\n\n\ncontrolPlanes: 2\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:4 labels', {
    files: { 'cluster.yaml': 'name: demo\nlabels:\n  team: web\n  node-role.kubernetes.io/worker: "true"\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:2 ingress.zone', {
    files: { 'cluster.yaml': 'name: demo\ningress:\n  alb: shared\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:4 ingress.alb', {
    files: { 'cluster.yaml': 'name: demo\ningress:\n  zone: example.com\n  alb: "no such name"\n' },
  }),
  c(['cluster', 'create', '-f', '{dir}/cluster.yaml', '--node-type', 'x'], '--node-type', {
    files: { 'cluster.yaml': 'name: demo\nnodeType: t3.large\n' },
  }),

  // --- controlplane add / nodegroup add --------------------------------------------------------------------
  c(['controlplane', 'add', 'Demo', 'cp2'], 'CLUSTER'),
  c(['controlplane', 'add', 'demo', 'cp--2'], 'GROUP'),
  c(['controlplane', 'add', 'demo', 'cp2', '--control-planes', '2'], '--control-planes'),
  c(['controlplane', 'add', 'demo', 'cp2', '--count', '4'], '--count'),
  c(['controlplane', 'add', 'demo', 'cp2', '--control-plane-type', 't3'], '--control-plane-type'),
  c(['controlplane', 'add', 'demo', 'cp2', '--instance-type', 'm5'], '--instance-type'),
  c(['controlplane', 'add', 'demo', 'cp2', '--k3s-version', 'v1.31'], '--k3s-version'),
  c(['controlplane', 'add', 'demo', 'cp2', '--k3s-arg', '--cluster-init'], '--k3s-arg'),
  c(['controlplane', 'add', 'demo', 'cp2', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:1 count', { files: { 'group.yaml': 'count: 2\n' } }),
  c(['controlplane', 'add', 'demo', 'cp2', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:1 name', {
    files: { 'group.yaml': 'name: cp3\n' },
    message: /GROUP 'cp2' differs from .*group\.yaml:1 name 'cp3'/,
  }),
  c(['nodegroup', 'add', 'demo'], 'GROUP'),
  c(['nodegroup', 'add', 'demo', 'ng', '--node-type', 't3.'], '--node-type'),
  c(['nodegroup', 'add', 'demo', 'ng', '--nodes=-2'], '--nodes'),
  c(['nodegroup', 'add', 'demo', 'ng', '--taint', 'x'], '--taint'),
  c(['nodegroup', 'add', 'demo', 'ng', '--subnet-filter', 'bad'], '--subnet-filter'),
  c(['nodegroup', 'add', 'demo', 'ng', '--root-volume-size', '99999'], '--root-volume-size'),
  c(['nodegroup', 'add', 'demo', 'ng', '--root-volume-type', 'gp9'], '--root-volume-type'),
  c(['nodegroup', 'add', 'demo', 'ng', '--ami', 'ami-zz'], '--ami'),
  c(['nodegroup', 'add', 'demo', 'ng', '--label', 'a=b c'], '--label'),
  c(['nodegroup', 'add', 'demo', 'ng', '--imds-hop-limit', '65'], '--imds-hop-limit'),
  c(['nodegroup', 'add', 'demo', 'ng', '--node-type', 'c6g.large', '--node-cpu-credits', 'unlimited'], '--node-cpu-credits', { message: /c6g\.large/ }),
  c(['nodegroup', 'add', 'demo', 'ng', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:2 cpuCredits', {
    files: { 'group.yaml': 'instanceType: m5.large\ncpuCredits: standard\n' },
  }),
  c(['controlplane', 'add', 'demo', 'cp2', '--control-plane-type', 'm5.large', '--control-plane-cpu-credits', 'standard'], '--control-plane-cpu-credits'),
  c(['nodegroup', 'add', 'demo', 'ng', '--node-security-group', 'sg-1'], '--node-security-group'),
  c(['nodegroup', 'add', 'demo', 'ng', '--security-group', 'sg-1'], '--security-group'),
  c(['nodegroup', 'add', 'demo', 'ng', '--target-group', TG_ARN.replace('targetgroup', 'loadbalancer/app')], '--target-group', { message: /not a target group ARN/ }),
  c(['controlplane', 'add', 'demo', 'cp2', '--control-plane-target-group', '-x'], '--control-plane-target-group'),
  c(
    ['controlplane', 'add', 'demo', 'cp2', ...['a', 'b', 'c', 'd', 'e'].flatMap((x) => ['--security-group', x])],
    '--security-group',
    { message: /at most 4 are allowed/ },
  ),
  c(['nodegroup', 'add', 'demo', 'ng', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:2 securityGroups[0]', {
    files: { 'group.yaml': 'securityGroups:\n  - sg-\n' },
  }),
  c(['controlplane', 'add', 'demo', 'cp2', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:3 targetGroups[1]', {
    files: { 'group.yaml': 'count: 1\ntargetGroups: [ok,\n  "not ok"]\n' },
  }),
  c(['nodegroup', 'add', 'demo', 'ng', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:2 instanceType', {
    files: { 'group.yaml': 'count: 1\ninstanceType: x\n' },
  }),
  c(['nodegroup', 'add', 'demo', 'ng', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:1 spot', { files: { 'group.yaml': 'spot: "yes"\n' } }),
  c(['nodegroup', 'add', 'demo', 'ng', '-f', '{dir}/group.yaml'], '{dir}/group.yaml:3 labels', {
    files: { 'group.yaml': 'labels:\n  ok: "1"\n  k8s.io/x: y\n' },
  }),

  // --- nodegroup scale / delete / list, cluster delete / describe ---------------------------------------
  c(['nodegroup', 'scale', 'demo', 'nodes', '--nodes=-1'], '--nodes'),
  c(['nodegroup', 'scale', 'demo', 'Nodes', '--nodes', '1'], 'GROUP'),
  c(['nodegroup', 'scale', 'demo', 'nodes'], '--nodes'),
  c(['nodegroup', 'scale', 'demo', 'nodes', '--nodes', 'x'], '--nodes'),
  c(['nodegroup', 'delete', 'Demo', 'nodes', '--yes'], 'CLUSTER'),
  c(['nodegroup', 'delete', 'demo', 'a--b', '--yes'], 'GROUP'),
  c(['nodegroup', 'list', 'demo_1'], 'CLUSTER'),
  c(['cluster', 'delete', 'Demo!', '--yes'], 'NAME'),
  c(['cluster', 'describe', 'x'.repeat(21)], 'NAME'),
  c(['cluster', 'describe'], 'NAME'),

  // --- recycle / upgrade ------------------------------------------------------------------------------------
  c(['recycle', 'Demo', '--yes'], 'CLUSTER'),
  c(['recycle', 'demo', '--batch', '0', '--yes'], '--batch'),
  c(['recycle', 'demo', '--batch', '150%', '--yes'], '--batch'),
  c(['recycle', 'demo', '--batch', 'ten', '--yes'], '--batch'),
  c(['recycle', 'demo', '--strategy', 'serial', '--max-surge', '1', '--yes'], '--max-surge', { message: /--strategy serial/ }),
  c(['recycle', 'demo', '--strategy', 'canary', '--max-unavailable', '10%', '--yes'], '--max-unavailable'),
  c(['recycle', 'demo', '--max-surge', '0', '--max-unavailable', '0', '--yes'], '--max-surge'),
  c(['recycle', 'demo', '--drain-timeout', 'forever', '--yes'], '--drain-timeout'),
  c(['recycle', 'demo', '--health-timeout', '0', '--yes'], '--health-timeout'),
  c(['recycle', 'demo', '--group', 'Bad_Group', '--yes'], '--group'),
  c(['recycle', 'demo', '-g', 'nodes', '-g', 'a--b', '--yes'], '-g'),
  c(['recycle', 'demo', '--strategy', 'yolo', '--yes'], '--strategy'),
  c(['upgrade', 'demo', '--k3s-version', '1.32', '--yes'], '--k3s-version'),
  c(['upgrade', 'demo', '--k3s-version', 'v1.32.2', '--yes'], '--k3s-version'),
  c(['upgrade', 'demo', '--yes'], '--k3s-version'),
  c(['upgrade', 'demo', '--yes'], 'K3SCTL_K3S_VERSION', { env: { K3SCTL_K3S_VERSION: 'latest' } }),
  c(['upgrade', 'Demo', '--k3s-version', 'v1.32.2+k3s1', '--yes'], 'CLUSTER'),
  c(['upgrade', 'demo', '--k3s-version', 'v1.32.2+k3s1', '--batch=-1', '--yes'], '--batch'),
  c(['upgrade', 'demo', '--k3s-version', 'v1.32.2+k3s1', '--drain-timeout', '1x', '--yes'], '--drain-timeout'),

  // --- kubeconfig: flags and the local files, before the control plane is looked up ------------------------
  c(['kubeconfig', 'Demo'], 'CLUSTER'),
  c(['kubeconfig', 'demo', '--instance-id', 'xyz'], '--instance-id'),
  c(['kubeconfig', 'demo', '--kubeconfig', '{dir}/config'], '--kubeconfig', {
    files: { config: 'apiVersion: v1\nclusters: [oops\n' },
    message: /not valid YAML/,
  }),
  c(['kubeconfig', 'demo', '--kubeconfig', '{dir}/config'], '--kubeconfig', { files: { config: 'clusters: 3\n' }, message: /clusters is not a list/ }),
  c(['kubeconfig', 'demo', '--kubeconfig', '{dir}/afile/config'], '--kubeconfig', { files: { afile: 'x' }, message: /not a directory/ }),
  c(['kubeconfig', 'demo', '--write', '{dir}/adir'], '--write', { files: { 'adir/': '' }, message: /is a directory/ }),
  c(['kubeconfig', 'demo', '--write', '{dir}/afile/demo.yaml'], '--write', { files: { afile: 'x' } }),
  c(['kubeconfig', 'demo'], 'KUBECONFIG', { env: { KUBECONFIG: '{dir}/pod.yaml' }, files: { 'pod.yaml': 'kind: Pod\n' }, message: /its kind is Pod/ }),
  c(['kubeconfig', 'demo', '--identity', '{dir}/nokey'], '--identity', { message: /no such file/ }),
  c(['kubeconfig', 'demo', '-i', '{dir}/nokey'], '-i'),
  c(['kubeconfig', 'demo', '--bastion', 'user@:99999'], '--bastion'),
  c(['kubeconfig', 'demo', '--via', 'ssm', '--identity', '{dir}/key'], '--identity', { files: { key: 'k' } }),
  c(['kubeconfig', 'demo', '--ssh-port', '0'], '--ssh-port'),
  c(['kubeconfig', 'demo', '--known-hosts', '{dir}/adir'], '--known-hosts', { files: { 'adir/': '' } }),
  c(['kubeconfig', 'demo', '--user', 'bad user'], '--user'),
  c(['kubeconfig', 'demo', '--via', 'scp'], '--via'),

  // --- alb create / delete ------------------------------------------------------------------------------------
  c(['alb', 'create'], 'NAME'),
  c(['alb', 'create', 'bad_name'], 'NAME'),
  c(['alb', 'create', 'shared', '--certificate', 'not-an-arn'], '--certificate'),
  c(['alb', 'create', 'shared', '--certificate', 'arn:aws:acm:us-east-1:123:certificate/x'], '--certificate'),
  c(['alb', 'create', 'shared', '--certificate', TG_ARN], '--certificate', { message: /target group/ }),
  c(['alb', 'create', 'shared', '--certificate', CERT_EU], '--certificate', { message: /is in eu-west-1/ }),
  c(['alb', 'create', 'shared', '--certificate', CERT_EU, '--certificate-domain', 'example.com', '--region', 'eu-west-1'], '--certificate'),
  c(['alb', 'create', 'shared', '--ingress-cidr', '0.0.0.0/33'], '--ingress-cidr'),
  c(['alb', 'create', 'shared', '--ingress-cidr', '10.1.2.3/8'], '--ingress-cidr', { message: /did you mean 10\.0\.0\.0\/8\?/ }),
  c(['alb', 'create', 'shared', '--ingress-cidr', '::1/0'], '--ingress-cidr', { message: /did you mean ::\/0\?/ }),
  c(['alb', 'create', 'shared', '--certificate-domain', 'not a domain'], '--certificate-domain'),
  c(['alb', 'create', 'shared', '--vpc-id', 'vpc-1'], '--vpc-id'),
  c(['alb', 'create', 'shared', '--subnet-id', 'subnet-1'], '--subnet-id'),
  c(['alb', 'create', 'shared', '--subnet-filter', 'bad'], '--subnet-filter'),
  c(['alb', 'create', 'shared', '-f', '{dir}/alb.yaml'], '{dir}/alb.yaml:1 name', { files: { 'alb.yaml': 'name: edge\n' } }),
  c(['alb', 'create', '-f', '{dir}/alb.yaml'], '{dir}/alb.yaml:3 ingressCidrs[0]', {
    files: { 'alb.yaml': 'name: shared\ningressCidrs:\n  - 10.0.0.1/8\n' },
  }),
  c(['alb', 'create', '-f', '{dir}/alb.yaml'], '{dir}/alb.yaml:2 certificate', { files: { 'alb.yaml': 'name: shared\ncertificate: nope\n' } }),
  c(['alb', 'create', '-f', '{dir}/alb.yaml'], '{dir}/alb.yaml:2 internal', { files: { 'alb.yaml': 'name: shared\ninternal: "yes"\n' } }),
  c(['alb', 'delete', 'bad name!', '--yes'], 'NAME'),
  c(['alb', 'delete', TG_ARN, '--yes'], 'NAME', { message: /target group/ }),

  // --- certificate request / delete ------------------------------------------------------------------------
  c(['certificate', 'request'], 'DOMAIN'),
  c(['certificate', 'request', 'not_a_domain'], 'DOMAIN'),
  c(['certificate', 'request', 'example.com', '--san', 'bad..domain'], '--san'),
  c(['certificate', 'request', 'example.com', '--validation-zone', 'noequals'], '--validation-zone'),
  c(['certificate', 'request', 'example.com', '--zone', 'bad zone!'], '--zone'),
  c(['certificate', 'request', 'example.com', '--validation-zone', 'www.example.org=example.org'], '--validation-zone', {
    message: /not a name of the certificate/,
  }),
  c(['certificate', 'request', 'example.com', '--validation-zone', 'example.com=bad!zone'], '--validation-zone'),
  c(['certificate', 'request', 'example.com', '-f', '{dir}/cert.yaml'], '{dir}/cert.yaml:1 domain', { files: { 'cert.yaml': 'domain: example.org\n' } }),
  c(['certificate', 'request', '-f', '{dir}/cert.yaml'], '{dir}/cert.yaml:3 sans[0]', {
    files: { 'cert.yaml': 'domain: example.com\nsans:\n  - x\n' },
  }),
  c(['certificate', 'delete', 'arn:aws:acm:us-east-1:12:certificate/xyz', '--yes'], 'CERTIFICATE'),
  c(['certificate', 'delete', 'not a domain!', '--yes'], 'CERTIFICATE'),
  c(['certificate', 'delete', CERT_EU, '--yes'], 'CERTIFICATE', { message: /is in eu-west-1/ }),

  // --- endpoint create / delete / describe / weight ------------------------------------------------------
  c(['endpoint', 'create', 'Blog', ...ENDPOINT.slice(1)], 'SERVICE'),
  c(['endpoint', 'create', ...ENDPOINT, '--source-ip', '10.0.0.1/8'], '--source-ip', { message: /host bits set; did you mean 10\.0\.0\.0\/8\?/ }),
  c(['endpoint', 'create', ...ENDPOINT, '--source-ip', 'bogus'], '--source-ip'),
  c(['endpoint', 'create', ...ENDPOINT, ...['1', '2', '3', '4', '5'].flatMap((n) => ['--source-ip', `10.${n}.0.0/16`])], '--source-ip'),
  c(['endpoint', 'create', ...ENDPOINT, '--stickiness', 'forever'], '--stickiness'),
  c(['endpoint', 'create', ...ENDPOINT, '--stickiness', '8d'], '--stickiness'),
  c(['endpoint', 'create', ...ENDPOINT, '--weight', 'alpha=1000'], '--weight'),
  c(['endpoint', 'create', ...ENDPOINT, '--weight', 'noequals'], '--weight'),
  c(['endpoint', 'create', ...ENDPOINT, '--weight', 'bravo=1'], '--weight'),
  c(['endpoint', 'create', ...ENDPOINT, '--mode', 'nodeport', '--port', '80'], '--port'),
  c(['endpoint', 'create', ...ENDPOINT, '--mode', 'nodeport'], '--port'),
  c(['endpoint', 'create', ...ENDPOINT, '--port', '30080'], '--port'),
  c(['endpoint', 'create', ...ENDPOINT, '--mode', 'nodeport', '--port', '30080', '--health-path', 'healthz'], '--health-path'),
  c(['endpoint', 'create', ...ENDPOINT, '--cluster', 'Bad'], '--cluster'),
  c(['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', TG_ARN, '--cluster', 'alpha'], '--alb', { message: /target group/ }),
  c(['endpoint', 'create', 'blog', '--zone', 'bad zone!', '--alb', 'shared', '--cluster', 'alpha'], '--zone'),
  c(['endpoint', 'create', 'blog', '--alb', 'shared', '--cluster', 'alpha'], '--zone'),
  c(['endpoint', 'create', 'blog', '-f', '{dir}/endpoint.yaml'], '{dir}/endpoint.yaml:1 service', {
    files: { 'endpoint.yaml': 'service: shop\nzone: example.com\nalb: shared\nclusters: [alpha]\n' },
  }),
  c(['endpoint', 'create', '-f', '{dir}/endpoint.yaml'], '{dir}/endpoint.yaml:5 stickiness', {
    files: { 'endpoint.yaml': 'service: blog\nzone: example.com\nalb: shared\nclusters: [alpha]\nstickiness: forever\n' },
  }),
  c(['endpoint', 'create', '-f', '{dir}/endpoint.yaml'], '{dir}/endpoint.yaml:5 sourceIps[0]', {
    files: { 'endpoint.yaml': 'service: blog\nzone: example.com\nalb: shared\nclusters: [alpha]\nsourceIps: [10.0.0.1/8]\n' },
  }),
  c(['endpoint', 'create', '-f', '{dir}/endpoint.yaml'], '{dir}/endpoint.yaml:5 weights.alpha', {
    files: { 'endpoint.yaml': 'service: blog\nzone: example.com\nalb: shared\nclusters: [alpha]\nweights: { alpha: 1000 }\n' },
  }),
  c(['endpoint', 'delete', 'Bad!', '--yes'], 'SERVICE'),
  c(['endpoint', 'describe', 'a--b'], 'SERVICE'),
  c(['endpoint', 'weight', 'blog', '--yes'], 'WEIGHTS'),
  c(['endpoint', 'weight', 'blog', 'alpha=1000', '--yes'], 'WEIGHTS'),
  c(['endpoint', 'weight', 'blog', 'alpha', '--yes'], 'WEIGHTS'),
  c(['endpoint', 'weight', 'blog', 'Bad=1', '--yes'], 'WEIGHTS'),
  c(['endpoint', 'weight', 'Blog', 'alpha=1', '--yes'], 'SERVICE'),
  c(['endpoint', 'weight', 'blog', 'alpha=1', '--shift-over', 'soon', '--yes'], '--shift-over'),
  c(['endpoint', 'weight', 'blog', 'alpha=1', '--shift-over', '0s', '--yes'], '--shift-over'),
  c(['endpoint', 'weight', 'blog', 'alpha=1', '--step', '5', '--yes'], '--step'),
  c(['endpoint', 'weight', 'blog', 'alpha=1', '--shift-over', '10m', '--step', '0', '--yes'], '--step'),

  // --- runs rollback: the run id is a local journal (its lookup is local too: no AWS call either way) ----
  c(['runs', 'rollback', '../../etc/passwd', '--yes'], 'RUN_ID'),
  c(['runs', 'rollback', 'latest', '--yes'], 'RUN_ID'),
  c(['runs', 'rollback', '20260101T000000-abcdef', '--yes'], 'RUN_ID', { message: /no such run/ }),
];

/** Every command of src/commands (`cluster create`, `kubeconfig`). */
function commandIds(dir = path.resolve(__dirname, '../../src/commands'), prefix: string[] = []): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? commandIds(path.join(dir, e.name), [...prefix, e.name]) : [[...prefix, e.name.replace(/\.ts$/, '')].join(' ')],
  );
}

const caseCommand = (argv: string[]) => {
  const two = argv.slice(0, 2).join(' ');
  return commandIds().includes(two) ? two : argv[0];
};

const title = (k: Case) =>
  `${k.argv.join(' ')}${Object.keys(k.env ?? {}).length ? ` (${Object.entries(k.env!).map(([n, v]) => `${n}=${v}`).join(' ')})` : ''}${
    k.files ? ` [${Object.entries(k.files).map(([n, t]) => `${n}: ${JSON.stringify(t)}`).join(', ')}]` : ''
  }`;

let aws: CountingAws;
let root: string;
let home: string;
const fill = (text: string, dir: string) => text.split('{dir}').join(dir);

/** The test's environment without the variables that would change what a run does (AWS_*, K3SCTL_*). */
function scrubbed(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^(AWS_|K3SCTL_)|^KUBECONFIG$/.test(k)));
}

/** The environment of every run: fake credentials, a region, no terminal, a home of its own. */
function baseEnv(): Record<string, string> {
  return {
    CI: 'true',
    K3SCTL_HOME: home,
    AWS_ACCESS_KEY_ID: 'AKIAK3SCTLTEST000000',
    AWS_SECRET_ACCESS_KEY: 'not-a-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    KUBECONFIG: path.join(root, 'kubeconfig'),
  };
}

/** Writes the case's files into a directory of its own; returns argv, env and field with `{dir}` filled in. */
function prepare(k: Case, i: number): { argv: string[]; env: Record<string, string>; field: string } {
  const dir = path.join(root, `case-${i}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(k.files ?? {})) {
    if (name.endsWith('/')) fs.mkdirSync(path.join(dir, name), { recursive: true });
    else fs.writeFileSync(path.join(dir, name), text);
  }
  const env = baseEnv();
  for (const name of k.unset ?? []) delete env[name];
  for (const [name, value] of Object.entries(k.env ?? {})) env[name] = fill(value, dir);
  const argv = [...k.argv.map((a) => fill(a, dir)), ...(k.ownEndpoint ? [] : ['--endpoint-url', aws.url]), '--json'];
  return { argv, env, field: fill(k.field, dir) };
}

beforeAll(async () => {
  aws = await countingAws();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-bad-input-'));
  home = path.join(root, 'home');
  fs.mkdirSync(home);
});

afterAll(async () => {
  await aws?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('bad input: exit 2, the flag or field named, no AWS call', () => {
  it('the table has at least 100 cases and covers every command', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
    const covered = new Set(CASES.map((k) => caseCommand(k.argv)));
    expect(commandIds().filter((id) => !covered.has(id))).toEqual([]);
  });

  it.each(CASES.map((k, i) => [title(k), i] as const))('%s', async (_title, i) => {
    const k = CASES[i];
    const { argv, env, field } = prepare(k, i);
    const before = aws.count();
    const r = await runInProcess(argv, env);
    const calls = aws.count() - before;
    expect({ code: r.code, awsCalls: calls }).toEqual({ code: 2, awsCalls: 0 });
    const doc = JSON.parse(r.stdout) as { error: { type: string; message: string; field?: string } };
    expect(doc.error.type).toBe('UserError');
    expect(doc.error.message).toContain(field);
    expect(doc.error.field).toBe(field);
    if (k.message) expect(doc.error.message).toMatch(k.message);
    // The human message on stderr names it too, once.
    expect(r.stderr).toMatch(/^Error: /m);
    expect(r.stderr.match(/^Error: .*$/m)?.[0]).toContain(field);
  });
});

describe('the counting server is AWS for the CLI', () => {
  it('valid input reaches it (so a count of 0 means no call was made)', async () => {
    // A server of its own: the calls of this run (killed once one arrived) must not land in another test's count.
    const own = await countingAws();
    try {
      const { argv, env } = prepare(c(['cluster', 'list', '--endpoint-url', own.url], '', { ownEndpoint: true }), 2000);
      const child = spawn(process.execPath, [BIN, ...argv], {
        env: { ...scrubbed(process.env), ...env },
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      const closed = new Promise((resolve) => child.on('close', resolve));
      const deadline = Date.now() + 30_000;
      while (own.count() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await closed;
      expect(own.count()).toBeGreaterThan(0);
      expect(own.requests[0].target ?? own.requests[0].url).toMatch(/GetParametersByPath|Describe|\//);
    } finally {
      await own.close();
    }
  }, 40_000);
});

describe('bad input through bin/run.js: the process exits 2', () => {
  const spawned: Case[] = [
    c(['cluster', 'create', 'demo', '--ssh-cidr', '10.0.0.5/16'], '--ssh-cidr', { message: /did you mean 10\.0\.0\.0\/16\?/ }),
    c(['cluster', 'create', '-f', '{dir}/cluster.yaml'], '{dir}/cluster.yaml:3 nodeType', {
      files: { 'cluster.yaml': 'name: demo\nnodes: 1\nnodeType: t3\n' },
    }),
    c(['upgrade', 'demo', '--k3s-version', '1.32', '--yes'], '--k3s-version'),
    c(['kubeconfig', 'demo', '--kubeconfig', '{dir}/config'], '--kubeconfig', { files: { config: 'clusters: [oops\n' } }),
    c(['alb', 'create', 'shared', '--certificate', TG_ARN], '--certificate'),
    c(['endpoint', 'create', ...ENDPOINT, '--source-ip', '10.0.0.1/8'], '--source-ip'),
  ];

  let results: { argv: string[]; field: string; r: Awaited<ReturnType<typeof runCli>> }[];
  let calls: number;
  beforeAll(async () => {
    const before = aws.count();
    // Two at a time (2 shared cores): each spawn loads the CLI afresh.
    results = [];
    const queue = spawned.map((k, i) => ({ k, ...prepare(k, 1000 + i), i }));
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const r = await runCli(job.argv, {
          home,
          env: job.env,
          unsetEnv: Object.keys(process.env).filter((k) => !(k in scrubbed({ [k]: '' })) && !(k in job.env)),
        });
        results[job.i] = { argv: job.argv, field: job.field, r };
      }
    };
    await Promise.all([worker(), worker()]);
    calls = aws.count() - before;
  }, 120_000);

  it('none of them made an AWS call', () => {
    expect(calls).toBe(0);
  });

  it.each(spawned.map((k, i) => [title(k), i] as const))('%s', (_title, i) => {
    const { r, field } = results[i];
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { message: string; field?: string } };
    expect(doc.error.field).toBe(field);
    expect(doc.error.message).toContain(field);
    if (spawned[i].message) expect(doc.error.message).toMatch(spawned[i].message!);
    expect(r.stderr).toContain(`Error: ${doc.error.message}`);
  });
});
