// The caller: who the run's credentials are (STS GetCallerIdentity, which needs no permission), and
// the IAM principal whose policies decide what it may do, the ARN IAM's policy simulator takes: the
// user itself, or, for an assumed-role session, its role with the role's path (which the session ARN
// leaves out; IAM GetRole gives it back).
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import type { AwsClients } from '../aws/clients';
import { awsErrorCode } from '../core/errors';

export interface CallerIdentity {
  account: string;
  /** As STS reports it: `arn:aws:iam::ACCOUNT:user/NAME`, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, ... */
  arn: string;
  userId: string;
}

export async function getCallerIdentity(clients: AwsClients): Promise<CallerIdentity> {
  const out = await clients.sts.send(new GetCallerIdentityCommand({}));
  return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
}

/** The principal to simulate, or why there is none (the root user, a federated user, an unknown ARN). */
export type SimulationPrincipal = { arn: string; kind: 'user' | 'role' } | { arn?: undefined; kind: 'root' | 'other'; reason: string };

/** `arn:PARTITION:SERVICE::ACCOUNT:RESOURCE` split; undefined when `arn` is not one. */
function parseArn(arn: string): { partition: string; service: string; account: string; resource: string } | undefined {
  const m = /^arn:([^:]+):([^:]+):[^:]*:(\d{12}):(.+)$/.exec(arn);
  return m ? { partition: m[1], service: m[2], account: m[3], resource: m[4] } : undefined;
}

export async function simulationPrincipal(clients: AwsClients, identity: CallerIdentity): Promise<SimulationPrincipal> {
  const arn = parseArn(identity.arn);
  if (!arn) return { kind: 'other', reason: `the caller ${identity.arn || '(no ARN)'} is not an IAM ARN` };
  if (arn.resource === 'root') return { kind: 'root', reason: 'the caller is the account\'s root user, which every action is allowed to (AWS advises against using it)' };
  // (Some emulators report an IAM user under `sts`; IAM names users `arn:aws:iam::ACCOUNT:user/PATH/NAME`.)
  if (arn.resource.startsWith('user/')) return { kind: 'user', arn: `arn:${arn.partition}:iam::${arn.account}:${arn.resource}` };
  const assumed = /^assumed-role\/([^/]+)\/.+$/.exec(arn.resource);
  if (assumed) {
    const roleName = assumed[1];
    try {
      const role = await clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
      if (role.Role?.Arn) return { kind: 'role', arn: role.Role.Arn };
    } catch (error) {
      // Without iam:GetRole, the role is assumed to have no path (the simulator then says NoSuchEntity if it has one).
      if (!['AccessDenied', 'AccessDeniedException', 'NoSuchEntity'].includes(awsErrorCode(error) ?? '')) throw error;
    }
    return { kind: 'role', arn: `arn:${arn.partition}:iam::${arn.account}:role/${roleName}` };
  }
  return { kind: 'other', reason: `IAM's policy simulator takes users and roles, not ${arn.resource.split('/')[0]} principals (${identity.arn})` };
}
