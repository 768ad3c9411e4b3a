// ACM's certificates as stored in the simulated account: the state ACM's handlers (../acm.ts) own and
// ELBv2 reads (a listener's certificate must exist), kept apart from the handlers so that ELBv2 and
// ACM, which each read the other's state, do not import each other.
import type { KeyAlgorithm } from '@aws-sdk/client-acm';
import type { SandboxContext } from '../../account';

export type CertificateStatus = 'PENDING_VALIDATION' | 'ISSUED' | 'VALIDATION_TIMED_OUT';

export interface Certificate {
  arn: string;
  domainName: string;
  /** DomainName first, as ACM returns it. */
  sans: string[];
  validationMethod: 'DNS' | 'EMAIL';
  status: CertificateStatus;
  createdAt: number;
  issuedAt?: number;
  idempotencyToken?: string;
  requestKey: string;
  keyAlgorithm: KeyAlgorithm;
  tags: { Key: string; Value?: string }[];
}

export interface AcmState {
  certificates: Record<string, Certificate>;
}

export function acmState(ctx: SandboxContext): AcmState {
  return ctx.sb.serviceState<AcmState>('acm', ctx.region, () => ({ certificates: {} }));
}

/** Whether a certificate exists in this region (ELBv2 CertificateNotFound). */
export function certificateExists(ctx: SandboxContext, arn: string): boolean {
  const st = ctx.sb.existingServiceState<AcmState>('acm', ctx.region);
  return st?.certificates[arn] !== undefined;
}
