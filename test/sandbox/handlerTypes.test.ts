// The handler typing of src/sandbox/service.ts: every operation a simulated service registers is a
// command of its SDK client (the name HandlerOf reads the input and output types from), and the
// types refuse a wrong output shape or an operation the SDK does not have (checked by `tsc`).
import type * as StsSdk from '@aws-sdk/client-sts';
import { serviceModules } from '../../src/sandbox/services';
import type { ServiceName } from '../../src/sandbox/account';
import type { HandlerOf, OperationsOf } from '../../src/sandbox/service';

const SDK_PACKAGES: Record<ServiceName, () => Record<string, unknown>> = {
  ec2: () => require('@aws-sdk/client-ec2'),
  autoscaling: () => require('@aws-sdk/client-auto-scaling'),
  elbv2: () => require('@aws-sdk/client-elastic-load-balancing-v2'),
  route53: () => require('@aws-sdk/client-route-53'),
  acm: () => require('@aws-sdk/client-acm'),
  iam: () => require('@aws-sdk/client-iam'),
  ssm: () => require('@aws-sdk/client-ssm'),
  sts: () => require('@aws-sdk/client-sts'),
  servicequotas: () => require('@aws-sdk/client-service-quotas'),
};

// @ts-expect-error a handler returns its operation's output shape (Account is a string)
const wrongOutput: HandlerOf<typeof StsSdk, 'GetCallerIdentity'> = () => ({ Account: 1 });

const unknownOperation: OperationsOf<typeof StsSdk> = {
  // @ts-expect-error an operation map names operations of the SDK client only
  GetCallerIdentities: () => ({}),
};

describe('sandbox handler types', () => {
  it.each(serviceModules.map((m) => [m.service, m] as const))(
    '%s registers only operations its SDK client has a command for',
    (service, module) => {
      const sdk = SDK_PACKAGES[service]();
      const missing = Object.keys(module.operations).filter((op) => typeof sdk[`${op}Command`] !== 'function');
      expect(missing).toEqual([]);
    },
  );

  it('the type-only checks above compile to ordinary functions', () => {
    expect(typeof wrongOutput).toBe('function');
    expect(Object.keys(unknownOperation)).toEqual(['GetCallerIdentities']);
  });
});
