// IAM's policy simulator for a principal (SimulatePrincipalPolicy): whether its identity policies
// (with permission boundaries and the organization's SCPs, as IAM evaluates them) allow each action
// on each resource. It informs, it changes nothing: its calls get two attempts, not ten, so an
// endpoint that does not implement it (moto answers HTTP 500) costs a second, not a minute.
import { SimulatePrincipalPolicyCommand, type EvaluationResult } from '@aws-sdk/client-iam';
import type { AwsClients } from '../aws/clients';

export type PolicyDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface SimulatedAction {
  action: string;
  resource: string;
  decision: PolicyDecision;
  /** Condition keys the decision depends on and the simulation could not know (the decision is then not final). */
  missingContext: string[];
}

const ATTEMPTS = 2;

/** One result per action and resource; `resources` default to `*`. */
export async function simulatePrincipalPolicy(
  clients: AwsClients,
  principalArn: string,
  actions: string[],
  resources: string[] = ['*'],
): Promise<SimulatedAction[]> {
  const iam = clients.withMaxAttempts(ATTEMPTS).iam;
  const results: EvaluationResult[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam.send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: principalArn, ActionNames: actions, ResourceArns: resources, Marker, MaxItems: 1000 }),
    );
    results.push(...(page.EvaluationResults ?? []));
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  return results.map((r) => ({
    action: r.EvalActionName ?? '',
    resource: r.EvalResourceName ?? '*',
    decision: (r.EvalDecision ?? 'implicitDeny') as PolicyDecision,
    missingContext: r.MissingContextValues ?? [],
  }));
}
