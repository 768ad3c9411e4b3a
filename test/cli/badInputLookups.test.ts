// Bad input whose check *is* a lookup: a VPC name, an instance type, a certificate that does not exist
// in the account can only be found out by asking AWS. These run in process against the sandbox
// (--sandbox, a fresh default account): each exits 2, names the flag or field as the user gave it
// (`FILE:LINE field` for a value from the file), and makes reads only: not one write.
// The malformed inputs that need no lookup at all, with zero AWS calls, are in badInput.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runInProcess } from '../helpers/inProcessCli';

interface LookupCase {
  /** What the lookup finds out. */
  lookup: string;
  argv: string[];
  field: string;
  files?: Record<string, string>;
}

const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef';

const CASES: LookupCase[] = [
  { lookup: 'no VPC of that Name', argv: ['cluster', 'create', 'demo', '--vpc', 'nope'], field: '--vpc' },
  { lookup: 'instance type not offered', argv: ['cluster', 'create', 'demo', '--node-type', 'zz9.large'], field: '--node-type' },
  { lookup: 'instance size not offered', argv: ['cluster', 'create', 'demo', '--control-plane-type', 't3.48xlarge'], field: '--control-plane-type' },
  { lookup: 'no such AMI', argv: ['cluster', 'create', 'demo', '--ami', 'ami-0123456789abcdef0'], field: '--ami' },
  { lookup: 'no such key pair', argv: ['cluster', 'create', 'demo', '--key-name', 'nokey'], field: '--key-name' },
  { lookup: 'no such subnet', argv: ['cluster', 'create', 'demo', '--subnet-id', 'subnet-0123456789abcdef0'], field: '--subnet-id' },
  { lookup: 'no such ALB', argv: ['cluster', 'create', 'demo', '--ingress-alb', 'nope', '--ingress-zone', 'example.com'], field: '--ingress-alb' },
  {
    lookup: 'no VPC of that Name, from the file',
    argv: ['cluster', 'create', '-f', '{dir}/cluster.yaml'],
    files: { 'cluster.yaml': 'name: demo\nvpc: nope\n' },
    field: '{dir}/cluster.yaml:2 vpc',
  },
  {
    lookup: 'instance type not offered, from the file',
    argv: ['cluster', 'create', '-f', '{dir}/cluster.yaml'],
    files: { 'cluster.yaml': 'name: demo\nnodes: 1\nnodeType: zz9.large\n' },
    field: '{dir}/cluster.yaml:3 nodeType',
  },
  { lookup: 'no security group of that name', argv: ['cluster', 'create', 'demo', '--node-security-group', 'nope'], field: '--node-security-group' },
  { lookup: 'no such security group', argv: ['cluster', 'create', 'demo', '--control-plane-security-group', 'sg-0123456789abcdef0'], field: '--control-plane-security-group' },
  { lookup: 'no target group of that name', argv: ['cluster', 'create', 'demo', '--node-target-group', 'nope'], field: '--node-target-group' },
  {
    lookup: 'no target group of that name, from the file',
    argv: ['cluster', 'create', '-f', '{dir}/cluster.yaml'],
    files: { 'cluster.yaml': 'name: demo\ncontrolPlaneTargetGroups: [nope]\n' },
    field: '{dir}/cluster.yaml:2 controlPlaneTargetGroups',
  },
  { lookup: 'no such certificate', argv: ['alb', 'create', 'shared', '--certificate', CERT_ARN], field: '--certificate' },
  { lookup: 'no certificate for the domain', argv: ['alb', 'create', 'shared', '--certificate-domain', 'example.com'], field: '--certificate-domain' },
  { lookup: 'no such ALB', argv: ['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'alpha'], field: '--alb' },
  { lookup: 'no such hosted zone', argv: ['endpoint', 'create', 'blog', '--zone', 'nowhere.example', '--alb', 'shared', '--cluster', 'alpha'], field: '--zone' },
  { lookup: 'no such hosted zone', argv: ['certificate', 'request', 'example.com', '--zone', 'nowhere.example'], field: '--zone' },
  { lookup: 'no certificate for the domain', argv: ['certificate', 'delete', 'example.org', '--yes'], field: 'CERTIFICATE' },
  { lookup: 'no such endpoint', argv: ['endpoint', 'describe', 'blog'], field: 'SERVICE' },
  { lookup: 'no such endpoint', argv: ['endpoint', 'weight', 'blog', 'alpha=1', '--yes'], field: 'SERVICE' },
];

let root: string;
let home: string;

function writes(): number {
  const file = path.join(home, 'sandbox/state.json');
  if (!fs.existsSync(file)) return 0;
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { calls: { write: number } }).calls.write;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-bad-lookup-'));
  home = path.join(root, 'home');
  fs.mkdirSync(home);
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('bad input found by a lookup (the lookup is the validation): exit 2, the field named, no write', () => {
  it.each(CASES.map((k, i) => [`${k.lookup}: ${k.argv.join(' ')}`, i] as const))('%s', async (_title, i) => {
    const k = CASES[i];
    const dir = path.join(root, `case-${i}`);
    fs.mkdirSync(dir);
    for (const [name, text] of Object.entries(k.files ?? {})) fs.writeFileSync(path.join(dir, name), text);
    const fill = (s: string) => s.split('{dir}').join(dir);
    const field = fill(k.field);
    const before = writes();
    const r = await runInProcess([...k.argv.map(fill), '--sandbox', '--json'], { CI: 'true', K3SCTL_HOME: home });
    expect({ code: r.code, writes: writes() - before }).toEqual({ code: 2, writes: 0 });
    const doc = JSON.parse(r.stdout) as { error: { type: string; message: string; field?: string } };
    expect(doc.error.type).toBe('UserError');
    expect(doc.error.field).toBe(field);
    expect(doc.error.message).toContain(field);
  });
});
