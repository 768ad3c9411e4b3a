// Cluster, group and service names (DNS labels, no `--`, short enough for every derived AWS name), the
// names derived from them, and the durations of flags such as --drain-timeout.
import { parseDuration } from '../../src/config/duration';
import { names } from '../../src/aws/names';
import { MAX_CLUSTER_NAME, MAX_GROUP_NAME, validateClusterName, validateGroupName, validateServiceName } from '../../src/config/names';
import { userError } from '../helpers/userError';

describe('names', () => {
  it.each(['demo', 'a', 'a1', 'prod-eu-1', 'a'.repeat(20)])('%s is a cluster and a group name', (n) => {
    expect(() => validateClusterName(n)).not.toThrow();
    expect(() => validateGroupName(n)).not.toThrow();
  });

  it.each(['Demo', '1demo', '-demo', 'demo-', 'de_mo', 'de.mo', '', 'demo\n'])('%j is refused as not a DNS label', (n) => {
    const e = userError(() => validateClusterName(n));
    expect(e.message).toBe(`name '${n}' is not a valid cluster name: use lowercase letters, digits and '-', starting with a letter and not ending with '-'`);
    expect(e.field).toBe('name');
    expect(userError(() => validateGroupName(n, 'GROUP')).message).toBe(
      `GROUP '${n}' is not a valid group name: use lowercase letters, digits and '-', starting with a letter and not ending with '-'`,
    );
  });

  it('refuses -- (the service/cluster delimiter of ingress host names)', () => {
    const e = userError(() => validateClusterName('a--b', 'NAME'));
    expect(e.message).toBe("NAME 'a--b' is not a valid cluster name: it may not contain '--' (it separates service and cluster in ingress host names)");
    expect(e.field).toBe('NAME');
    expect(userError(() => validateServiceName('web--api')).field).toBe('service');
  });

  it('limits cluster and group names to 20 characters and services to 63', () => {
    expect(MAX_CLUSTER_NAME).toBe(20);
    expect(MAX_GROUP_NAME).toBe(20);
    const e = userError(() => validateClusterName('a'.repeat(21)));
    expect(e.message).toBe(`name '${'a'.repeat(21)}' is not a valid cluster name: it is 21 characters; at most 20 are allowed`);
    expect(e.field).toBe('name');
    const g = userError(() => validateGroupName('b'.repeat(21)));
    expect(g.message).toBe(`group '${'b'.repeat(21)}' is not a valid group name: it is 21 characters; at most 20 are allowed`);
    expect(g.field).toBe('group');
    expect(() => validateServiceName('s'.repeat(63))).not.toThrow();
    const s = userError(() => validateServiceName('s'.repeat(64)));
    expect(s.message).toBe(`service '${'s'.repeat(64)}' is not a valid service name: it is 64 characters; at most 63 are allowed`);
    expect(userError(() => validateServiceName('Web', '--service')).message).toMatch(/^--service 'Web' is not a valid service name: /);
  });

  it('derives every AWS name of a cluster', () => {
    expect(names.ssmPrefix('demo')).toBe('/k3sctl/clusters/demo');
    expect(names.ssmConfig('demo')).toBe('/k3sctl/clusters/demo/config');
    expect(names.ssmGroupConfig('demo', 'gpu')).toBe('/k3sctl/clusters/demo/groups/gpu');
    expect(names.ssmServerToken('demo')).toBe('/k3sctl/clusters/demo/server-token');
    expect(names.ssmAgentToken('demo')).toBe('/k3sctl/clusters/demo/agent-token');
    expect(names.ssmInitialized('demo')).toBe('/k3sctl/clusters/demo/initialized');
    expect(names.ssmBootstrapFailures('demo')).toBe('/k3sctl/clusters/demo/bootstrap-failures');
    expect(names.controlPlaneRole('demo', 'eu-west-1')).toBe('k3sctl-demo-eu-west-1-control-plane');
    expect(names.nodeRole('demo', 'eu-west-1')).toBe('k3sctl-demo-eu-west-1-node');
    expect(names.securityGroup('demo')).toBe('k3sctl-demo');
    expect(names.launchTemplate('demo', 'gpu')).toBe('k3sctl-demo-gpu');
    expect(names.autoScalingGroup('demo', 'gpu')).toBe('k3sctl-demo-gpu');
    expect(names.lifecycleHook()).toBe('k3sctl-graceful-leave');
    expect(names.ingressTargetGroup('a'.repeat(20))).toHaveLength(28);
    expect(names.ingressTargetGroup('demo')).toBe('k3s-demo-ing');
    expect(names.ingressHost('demo', 'us-east-1', 'example.com.')).toBe('*--demo.us-east-1.example.com');
    expect(names.ingressHost('demo', 'us-east-1', 'example.com')).toBe('*--demo.us-east-1.example.com');
  });
});

describe('durations', () => {
  it.each([
    ['900', 900_000],
    [' 90 ', 90_000],
    ['0', 0],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['500ms', 500],
    ['1m30s250ms', 90_250],
    ['1h1h', 7_200_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text, '--drain-timeout')).toBe(ms);
  });

  it.each(['', 'abc', '90x', '1h 30m', '1.5h', 's', '10s5', 'x10s', '-5s', '5S'])('%j is not a duration', (text) => {
    const e = userError(() => parseDuration(text, '--drain-timeout'));
    expect(e.message).toBe(`--drain-timeout '${text}' is not a duration`);
    expect(e.suggestion).toBe('give seconds (900) or units: 90s, 15m, 1h30m');
    expect(e.field).toBe('--drain-timeout');
  });
});
