// Simulated STS: who the caller is. Every sandbox client signs as one fixed IAM user of the simulated
// account (src/sandbox/account.ts SANDBOX_CALLER), so GetCallerIdentity answers that user.
import type * as StsSdk from '@aws-sdk/client-sts';
import type { HandlerOf, OperationsOf, ServiceModule } from '../service';
import { SANDBOX_CALLER, type SandboxContext } from '../account';

/** The ARN of the sandbox's caller: an IAM user, as GetCallerIdentity reports one. */
export function sandboxCallerArn(ctx: SandboxContext): string {
  return `arn:aws:iam::${ctx.sb.state.accountId}:user/${SANDBOX_CALLER.userName}`;
}

const getCallerIdentity: HandlerOf<typeof StsSdk, 'GetCallerIdentity'> = (ctx) => ({
  UserId: SANDBOX_CALLER.userId,
  Account: ctx.sb.state.accountId,
  Arn: sandboxCallerArn(ctx),
});

export const stsModule: ServiceModule = {
  service: 'sts',
  operations: { GetCallerIdentity: getCallerIdentity } satisfies OperationsOf<typeof StsSdk>,
};
