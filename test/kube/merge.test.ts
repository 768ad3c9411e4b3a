import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { KubeconfigError } from '../../src/kube/errors';
import {
  kubeconfigTargetPath,
  mergeKubeconfig,
  readKubeconfigFile,
  writeFileAtomic0600,
} from '../../src/kube/merge';
import { parseFetchedKubeconfig, rewriteEntries } from '../../src/kube/rewrite';

const K3S_YAML = fs.readFileSync(path.join(__dirname, 'fixtures/k3s.yaml'), 'utf8');
const entries = (context = 'k3sctl-demo.us-east-1', address = '203.0.113.7') =>
  rewriteEntries(parseFetchedKubeconfig(K3S_YAML, 'test'), { address, contextName: context });

// A kubeconfig as kubectl and people leave it: comments, quoting, flow style, other clusters.
const EXISTING = `apiVersion: v1
# production first
clusters:
- cluster:
    certificate-authority-data: QUJD
    server: "https://prod.example.com:443"
  name: prod
- cluster: {server: 'https://kind:6443', insecure-skip-tls-verify: true} # local
  name: kind
contexts:
- context:
    cluster: prod
    user: prod-admin
    namespace: payments
  name: prod
current-context: prod
kind: Config
preferences: {}
users:
- name: prod-admin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: ["eks", "get-token", "--cluster-name", "prod"]
`;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-merge-'));
}

function kubectlView(file: string):
  | {
      clusters: { name: string }[];
      contexts: { name: string }[];
      users: { name: string }[];
      'current-context': string;
    }
  | undefined {
  if (!fs.existsSync('/usr/bin/kubectl')) return undefined;
  return JSON.parse(
    execFileSync('/usr/bin/kubectl', ['config', 'view', '--kubeconfig', file, '-o', 'json'], {
      encoding: 'utf8',
    }),
  );
}

describe('merging into a kubeconfig', () => {
  it('creates a new kubeconfig when there is none', () => {
    const text = mergeKubeconfig(undefined, entries(), { setCurrent: true, file: 'x' });
    const doc = parse(text);
    expect(doc).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'k3sctl-demo.us-east-1',
    });
    expect(doc.clusters.map((c: { name: string }) => c.name)).toEqual(['k3sctl-demo.us-east-1']);
    expect(text).toMatch(/^clusters:\n- /m); // kubectl's sequence style
  });

  it('adds its entries and keeps everything else as it was, comments and styles included', () => {
    const text = mergeKubeconfig(EXISTING, entries(), { setCurrent: true, file: 'x' });
    for (const kept of [
      '# production first',
      '    server: "https://prod.example.com:443"',
      "- cluster: {server: 'https://kind:6443', insecure-skip-tls-verify: true} # local",
      '    namespace: payments',
      '      args: ["eks", "get-token", "--cluster-name", "prod"]',
    ]) {
      expect(text).toContain(kept);
    }
    const doc = parse(text);
    expect(doc.clusters.map((c: { name: string }) => c.name)).toEqual([
      'prod',
      'kind',
      'k3sctl-demo.us-east-1',
    ]);
    expect(doc.users.map((c: { name: string }) => c.name)).toEqual([
      'prod-admin',
      'admin@k3sctl-demo.us-east-1',
    ]);
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'k3sctl-demo.us-east-1']);
    expect(doc['current-context']).toBe('k3sctl-demo.us-east-1');
    const before = parse(EXISTING);
    expect(doc.clusters.slice(0, 2)).toEqual(before.clusters);
    expect(doc.users[0]).toEqual(before.users[0]);
    expect(doc.contexts[0]).toEqual(before.contexts[0]);
  });

  it('replaces its own earlier entries in place instead of duplicating them', () => {
    const first = mergeKubeconfig(EXISTING, entries(), { setCurrent: true, file: 'x' });
    const again = mergeKubeconfig(first, entries(), { setCurrent: true, file: 'x' });
    expect(again).toBe(first);
    const moved = mergeKubeconfig(first, entries('k3sctl-demo.us-east-1', '198.51.100.9'), {
      setCurrent: true,
      file: 'x',
    });
    const doc = parse(moved);
    expect(doc.clusters).toHaveLength(3);
    expect(doc.clusters[2].cluster.server).toBe('https://198.51.100.9:6443');
    expect(doc.users).toHaveLength(2);
    expect(doc.contexts).toHaveLength(2);
  });

  it('leaves current-context alone without setCurrent', () => {
    const doc = parse(mergeKubeconfig(EXISTING, entries(), { setCurrent: false, file: 'x' }));
    expect(doc['current-context']).toBe('prod');
  });

  it('keeps indented sequences when the file uses them, and accepts null lists', () => {
    const indented =
      'apiVersion: v1\nkind: Config\nclusters:\n  - name: a\n    cluster: {server: "https://a:6443"}\ncontexts: null\nusers:\n';
    const text = mergeKubeconfig(indented, entries(), { setCurrent: true, file: 'x' });
    expect(text).toMatch(/^clusters:\n {2}- name: a/m);
    const doc = parse(text);
    expect(doc.contexts).toHaveLength(1);
    expect(doc.users).toHaveLength(1);
  });

  it.each([
    ['a: [unclosed', /not valid YAML/],
    ['- just\n- a list', /not a YAML mapping/],
    ['kind: Pod', /kind is Pod/],
    ['clusters: oops', /clusters is not a list/],
  ])('refuses to merge into a file that is not a kubeconfig: %j', (text, why) => {
    expect(() =>
      mergeKubeconfig(text, entries(), { setCurrent: true, file: '/home/u/.kube/config' }),
    ).toThrow(KubeconfigError);
    expect(() =>
      mergeKubeconfig(text, entries(), { setCurrent: true, file: '/home/u/.kube/config' }),
    ).toThrow(why);
  });

  it('produces a file kubectl reads, with the other clusters intact', () => {
    const dir = tmp();
    const file = path.join(dir, 'config');
    fs.writeFileSync(file, EXISTING);
    writeFileAtomic0600(
      file,
      mergeKubeconfig(readKubeconfigFile(file), entries(), { setCurrent: true, file }),
    );
    const view = kubectlView(file);
    if (!view) return;
    expect(view.clusters.map((c) => c.name).sort()).toEqual(['k3sctl-demo.us-east-1', 'kind', 'prod']);
    expect(view.users.map((c) => c.name).sort()).toEqual(['admin@k3sctl-demo.us-east-1', 'prod-admin']);
    expect(view['current-context']).toBe('k3sctl-demo.us-east-1');
  });
});

describe('kubeconfig files', () => {
  it('picks the first non-empty entry of KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigTargetPath(undefined, '/home/u')).toBe('/home/u/.kube/config');
    expect(kubeconfigTargetPath('', '/home/u')).toBe('/home/u/.kube/config');
    expect(kubeconfigTargetPath(':/a/one:/b/two', '/home/u', ':')).toBe('/a/one');
  });

  it('writes atomically with mode 0600, creating the directory, and leaves no temp file', () => {
    const dir = tmp();
    const file = path.join(dir, '.kube', 'config');
    writeFileAtomic0600(file, 'a: 1\n');
    fs.chmodSync(file, 0o644);
    writeFileAtomic0600(file, 'a: 2\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('a: 2\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['config']);
  });

  it('writes through a symlink so the link survives', () => {
    const dir = tmp();
    const real = path.join(dir, 'real-config');
    const link = path.join(dir, 'config');
    fs.writeFileSync(real, 'a: 1\n');
    fs.symlinkSync(real, link);
    expect(writeFileAtomic0600(link, 'a: 3\n')).toBe(real);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, 'utf8')).toBe('a: 3\n');
  });
});
