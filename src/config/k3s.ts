// What k3s and Kubernetes accept, checked without any AWS call: release versions, label keys and
// values, taints, TLS SANs and extra k3s arguments. Config validates flags and files with them, and
// userdata validates every value again before it renders an instance's configuration.

const K3S_VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-rc\d+)?\+k3s\d+$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^$|^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-fA-F:]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** Arguments k3sctl sets itself; tokens in particular must never travel in user data. */
const MANAGED_ARGS = [
  '--token',
  '--token-file',
  '--agent-token',
  '--agent-token-file',
  '--server',
  '--cluster-init',
  '--cluster-reset',
  '--node-name',
];

/** A k3s release version such as v1.31.4+k3s1 (release candidates: v1.31.4-rc1+k3s1). */
export function isK3sVersion(v: string): boolean {
  return K3S_VERSION.test(v);
}

/** A Kubernetes label value: empty, or at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends. */
export function isLabelValue(value: string): boolean {
  return LABEL_VALUE.test(value);
}

/** What is wrong with an extra k3s argument, or undefined when it may travel in user data. */
export function k3sArgProblem(arg: string): string | undefined {
  if (!arg.startsWith('--') || arg.length < 3) return `'${arg}' must be a long option such as --disable=traefik`;
  if (CONTROL_CHARS.test(arg)) return 'contains a control character (newline, tab, ...)';
  const flag = arg.split('=', 1)[0];
  if (MANAGED_ARGS.includes(flag)) return `${flag} is managed by k3sctl and may not be given as an extra argument`;
  return undefined;
}

/** True for a TLS SAN of the API server certificate: an IPv4 or IPv6 address, or a DNS name (`*.` allowed). */
export function isTlsSan(san: string): boolean {
  return IPV4.test(san) || (san.includes(':') && IPV6.test(san)) || DNS_SUBDOMAIN.test(san.replace(/^\*\./, ''));
}

/** What is wrong with a taint `key[=value]:Effect`, or undefined. */
export function taintProblem(taint: string): string | undefined {
  const m = /^([^=:]+)(=([^:]*))?:([A-Za-z]+)$/.exec(taint);
  if (!m) return `taint '${taint}' is not key[=value]:Effect`;
  const [, key, , value, effect] = m;
  if (!isLabelKey(key)) return `taint key '${key}' is not a valid Kubernetes key`;
  if (value !== undefined && !isLabelValue(value)) return `taint value '${value}' is not a valid Kubernetes label value`;
  if (!TAINT_EFFECTS.includes(effect)) return `taint effect '${effect}' must be one of ${TAINT_EFFECTS.join(', ')}`;
  return undefined;
}

/** A Kubernetes label key: [DNS-subdomain prefix/]name. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  return DNS_SUBDOMAIN.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}
