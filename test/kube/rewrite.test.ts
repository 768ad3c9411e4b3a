import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KubeconfigError } from '../../src/kube/errors';
import {
  defaultContextName,
  parseFetchedKubeconfig,
  renderStandaloneKubeconfig,
  rewriteEntries,
  rewriteServerUrl,
} from '../../src/kube/rewrite';

const K3S_YAML = fs.readFileSync(path.join(__dirname, 'fixtures/k3s.yaml'), 'utf8');

describe('rewriting the k3s kubeconfig', () => {
  it('keeps the credentials, renames everything after the context and points the server at the instance', () => {
    const fetched = parseFetchedKubeconfig(K3S_YAML, 'test');
    const entries = rewriteEntries(fetched, {
      address: '203.0.113.7',
      contextName: defaultContextName('demo', 'eu-west-1'),
    });
    const original = parse(K3S_YAML);
    expect(entries.context).toEqual({
      name: 'k3sctl-demo.eu-west-1',
      context: { cluster: 'k3sctl-demo.eu-west-1', user: 'admin@k3sctl-demo.eu-west-1' },
    });
    expect(entries.cluster).toEqual({
      name: 'k3sctl-demo.eu-west-1',
      cluster: {
        'certificate-authority-data': original.clusters[0].cluster['certificate-authority-data'],
        server: 'https://203.0.113.7:6443',
      },
    });
    expect(entries.user).toEqual({ name: 'admin@k3sctl-demo.eu-west-1', user: original.users[0].user });
  });

  it('keeps a non-default API port and brackets IPv6 addresses', () => {
    expect(rewriteServerUrl('https://127.0.0.1:6443', '10.1.2.3')).toBe('https://10.1.2.3:6443');
    expect(rewriteServerUrl('https://127.0.0.1:7443', '10.1.2.3')).toBe('https://10.1.2.3:7443');
    expect(rewriteServerUrl('https://[::1]:6443', '2001:db8::5')).toBe('https://[2001:db8::5]:6443');
    expect(rewriteServerUrl('not a url', '10.1.2.3')).toBe('https://10.1.2.3:6443');
  });

  it('renders a standalone kubeconfig that parses back to the same entries', () => {
    const entries = rewriteEntries(parseFetchedKubeconfig(K3S_YAML, 'test'), {
      address: '198.51.100.2',
      contextName: 'mine',
    });
    const text = renderStandaloneKubeconfig(entries);
    const doc = parse(text);
    expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'mine' });
    expect(doc.clusters).toEqual([entries.cluster]);
    expect(doc.users).toEqual([entries.user]);
    expect(doc.contexts).toEqual([entries.context]);
    // Long base64 values stay on one line (no folding).
    expect(text).toContain(`client-key-data: ${entries.user.user['client-key-data']}`);
  });

  it.each([
    ['', /empty/],
    ['permission denied', /not a YAML mapping/],
    ['key: [unclosed', /not valid YAML/],
    ['kind: Pod\ncontexts: []', /kind is Pod/],
    ['apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []', /no contexts/],
    [
      'contexts:\n- name: a\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}',
      /cluster 'c' is missing/,
    ],
    [
      'clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}',
      /no server/,
    ],
    [
      'clusters:\n- name: c\n  cluster: {server: "https://x:6443"}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}',
      /no credentials/,
    ],
  ])('refuses a fetched file that is not a usable kubeconfig: %j', (text, why) => {
    let error: unknown;
    try {
      parseFetchedKubeconfig(text, 'i-123:/etc/rancher/k3s/k3s.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KubeconfigError);
    expect((error as KubeconfigError).reason).toBe('not-a-kubeconfig');
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toContain('i-123:/etc/rancher/k3s/k3s.yaml');
  });

  it('never quotes the fetched file in its messages (it may hold a private key)', () => {
    const secret = 'client-key-data: SECRETSECRET\n  bad: [';
    try {
      parseFetchedKubeconfig(`users:\n- ${secret}`, 'x');
      throw new Error('expected a failure');
    } catch (error) {
      expect((error as Error).message).not.toContain('SECRET');
    }
  });
});
