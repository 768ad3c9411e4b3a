import { DescribeParametersCommand } from '@aws-sdk/client-ssm';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { parseFaultRules, FaultInjector } from '../../src/sandbox/faults';

describe('sandbox core', () => {
  it('routes real SDK commands to the simulated service and reports unimplemented operations as AWS errors', async () => {
    const sb = new Sandbox();
    const clients = sandboxClients(sb, 'us-east-1');
    sb.faults.add({ op: 'DescribeParameters', nth: 1, code: 'ThrottlingException' });
    const before = sb.now();
    await expect(clients.ssm.send(new DescribeParametersCommand({}))).rejects.toMatchObject({ name: 'InvalidAction' });
    // The throttled first attempt was retried by the SDK's retry strategy: two attempts, backoff in virtual time.
    expect(clients.calls.read).toBe(2);
    expect(sb.state.calls.byOperation.DescribeParameters).toBe(2);
    expect(sb.now()).toBeGreaterThanOrEqual(before + 240);
  });

  it('parses fault rules', () => {
    expect(parseFaultRules('write#5=InternalFailure, *%30=Throttling,RunInstances=InsufficientInstanceCapacity')).toEqual([
      { op: 'write', nth: 5, code: 'InternalFailure' },
      { op: '*', percent: 30, code: 'Throttling' },
      { op: 'RunInstances', code: 'InsufficientInstanceCapacity' },
    ]);
    expect(() => parseFaultRules('RunInstances#0=X')).toThrow(/N must be 1 or more/);
    expect(() => parseFaultRules('nonsense')).toThrow(/cannot parse rule 'nonsense'/);
  });

  it('fires nth and percent rules reproducibly', () => {
    const a = new FaultInjector([{ op: 'write', nth: 2, code: 'X' }]);
    expect(['CreateVpc', 'DescribeVpcs', 'CreateSubnet', 'CreateSubnet'].map((op) => a.check(op)?.code)).toEqual([
      undefined,
      undefined,
      'X',
      undefined,
    ]);
    const run = () => {
      const f = new FaultInjector([{ op: '*', percent: 30, code: 'Throttling' }], 7);
      return Array.from({ length: 1000 }, () => (f.check('DescribeInstances') ? 1 : 0) as number).reduce((s, x) => s + x, 0);
    };
    const hits = run();
    expect(hits).toBe(run());
    expect(hits).toBeGreaterThan(250);
    expect(hits).toBeLessThan(350);
  });
});
