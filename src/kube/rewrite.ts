// Turns the kubeconfig a k3s server writes (`/etc/rancher/k3s/k3s.yaml`: one cluster, user and
// context, all named `default`, server https://127.0.0.1:6443) into entries named for k3sctl that
// point at the instance's address. The fetched text holds cluster-admin credentials: it is never
// logged, and error messages about it never quote it.
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KubeconfigError } from './errors';

type YamlObject = Record<string, unknown>;

export interface NamedCluster {
  name: string;
  cluster: YamlObject & { server: string };
}
export interface NamedUser {
  name: string;
  user: YamlObject;
}
export interface NamedContext {
  name: string;
  context: YamlObject & { cluster: string; user: string };
}

/** The three entries k3sctl owns in a kubeconfig for one cluster. */
export interface KubeconfigEntries {
  cluster: NamedCluster;
  user: NamedUser;
  context: NamedContext;
}

export const K3S_API_PORT = 6443;

/** `k3sctl-CLUSTER.REGION`, the default context name. */
export function defaultContextName(cluster: string, region: string): string {
  return `k3sctl-${cluster}.${region}`;
}

/** Entry names derived from the context name: cluster `CTX`, user `admin@CTX`, context `CTX`. */
export function entryNames(context: string): { cluster: string; user: string; context: string } {
  return { cluster: context, user: `admin@${context}`, context };
}

function isObject(v: unknown): v is YamlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(why: string, source: string): KubeconfigError {
  return new KubeconfigError(
    'not-a-kubeconfig',
    `the file read from ${source} is not a usable kubeconfig (${why}); nothing was written`,
    'check that k3s finished starting on the instance (`k3sctl cluster describe`), or read the file by hand',
  );
}

/**
 * Validates a fetched kubeconfig and returns its current context's cluster, user and context.
 * `source` names where it came from, for messages (`ec2-user@1.2.3.4:22:/etc/rancher/k3s/k3s.yaml`).
 */
export function parseFetchedKubeconfig(text: string, source: string): KubeconfigEntries {
  if (!text.trim()) throw invalid('it is empty', source);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    // The parser's message may quote a line of the file, which can hold a private key.
    throw invalid('it is not valid YAML', source);
  }
  if (!isObject(doc)) throw invalid('it is not a YAML mapping', source);
  if (doc.kind !== undefined && doc.kind !== 'Config')
    throw invalid(`kind is ${String(doc.kind)}, expected Config`, source);
  const clusters = Array.isArray(doc.clusters) ? doc.clusters : [];
  const users = Array.isArray(doc.users) ? doc.users : [];
  const contexts = Array.isArray(doc.contexts) ? doc.contexts : [];
  if (contexts.length === 0) throw invalid('it has no contexts', source);
  const currentName = typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined;
  const ctx = (contexts.find((c) => isObject(c) && c.name === currentName) ?? contexts[0]) as unknown;
  if (!isObject(ctx) || !isObject(ctx.context)) throw invalid('its context entry has no context', source);
  const clusterName = ctx.context.cluster;
  const userName = ctx.context.user;
  const cluster = clusters.find((c) => isObject(c) && c.name === clusterName) as unknown;
  const user = users.find((u) => isObject(u) && u.name === userName) as unknown;
  if (!isObject(cluster) || !isObject(cluster.cluster))
    throw invalid(`cluster '${String(clusterName)}' is missing`, source);
  if (typeof cluster.cluster.server !== 'string' || !cluster.cluster.server)
    throw invalid('the cluster has no server', source);
  if (!isObject(user) || !isObject(user.user) || Object.keys(user.user).length === 0) {
    throw invalid(`user '${String(userName)}' has no credentials`, source);
  }
  return {
    cluster: { name: String(cluster.name), cluster: cluster.cluster as NamedCluster['cluster'] },
    user: { name: String(user.name), user: user.user },
    context: { name: String(ctx.name), context: ctx.context as NamedContext['context'] },
  };
}

/** `https://HOST:PORT` keeping the port the server listens on (6443 unless k3s was told otherwise). */
export function rewriteServerUrl(original: string, address: string): string {
  let port = K3S_API_PORT;
  try {
    const url = new URL(original);
    if (url.port) port = Number(url.port);
  } catch {
    // an unparsable server keeps the k3s default port
  }
  const host = address.includes(':') ? `[${address}]` : address;
  return `https://${host}:${port}`;
}

/** Renames the entries after `contextName` and points the cluster at `address`. */
export function rewriteEntries(
  fetched: KubeconfigEntries,
  options: { address: string; contextName: string },
): KubeconfigEntries {
  const names = entryNames(options.contextName);
  const context: NamedContext['context'] = { cluster: names.cluster, user: names.user };
  if (typeof fetched.context.context.namespace === 'string')
    context.namespace = fetched.context.context.namespace;
  return {
    cluster: {
      name: names.cluster,
      cluster: {
        ...fetched.cluster.cluster,
        server: rewriteServerUrl(fetched.cluster.cluster.server, options.address),
      },
    },
    user: { name: names.user, user: { ...fetched.user.user } },
    context: { name: names.context, context },
  };
}

/** A kubeconfig holding only these entries, current-context set (for --print and --write), keys in kubectl's order. */
export function renderStandaloneKubeconfig(entries: KubeconfigEntries): string {
  return stringifyYaml(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: entries.cluster.cluster, name: entries.cluster.name }],
      contexts: [{ context: entries.context.context, name: entries.context.name }],
      'current-context': entries.context.name,
      kind: 'Config',
      preferences: {},
      users: [{ name: entries.user.name, user: entries.user.user }],
    },
    { lineWidth: 0, indentSeq: false },
  );
}
