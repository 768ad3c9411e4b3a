import { DescribeParametersCommand, ListDocumentsCommand } from '@aws-sdk/client-ssm';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { parseFaultRules, FaultInjector } from '../../src/sandbox/faults';
import { awsErrorCode } from '../../src/core/errors';

describe('sandbox core', () => {
  it('retries simulated throttling through the SDK retry strategy, backing off in virtual time', async () => {
    const sb = new Sandbox();
    const clients = sandboxClients(sb, 'us-east-1');
    sb.faults.add({ op: 'DescribeParameters', nth: 1, code: 'ThrottlingException' });
    sb.faults.add({ op: 'DescribeParameters', nth: 2, code: 'ThrottlingException' });
    const before = sb.now();
    const out = await clients.ssm.send(new DescribeParametersCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect(clients.calls.read).toBe(3);
    expect(sb.state.calls.byOperation.DescribeParameters).toBe(3);
    // Three calls of 120 ms latency plus the SDK's backoff, all spent on the virtual clock.
    expect(sb.now()).toBeGreaterThan(before + 360);
  });

  it('reports an operation it does not simulate as an AWS error, not a crash', async () => {
    const sb = new Sandbox();
    const clients = sandboxClients(sb, 'us-east-1');
    await expect(clients.ssm.send(new ListDocumentsCommand({}))).rejects.toMatchObject({ name: 'InvalidAction' });
  });

  it('throws the SDK modeled exception classes for modeled error codes', async () => {
    const { GetRoleCommand, NoSuchEntityException } = await import('@aws-sdk/client-iam');
    const sb = new Sandbox();
    const error = await sandboxClients(sb, 'us-east-1').iam.send(new GetRoleCommand({ RoleName: 'missing' })).catch((e) => e);
    expect(error).toBeInstanceOf(NoSuchEntityException);
    expect(awsErrorCode(error)).toBe('NoSuchEntity');
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
