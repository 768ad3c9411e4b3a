// Service Quotas: the applied value of one quota of the account in the run's region (GetServiceQuota).
// k3sctl reads EC2's Running On-Demand Standard instances quota, counted in vCPUs.
import { GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import type { AwsClients } from '../aws/clients';

/** EC2's Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs. */
export const ON_DEMAND_STANDARD_VCPUS = { serviceCode: 'ec2', quotaCode: 'L-1216C47A' } as const;

export interface ServiceQuota {
  serviceCode: string;
  quotaCode: string;
  name: string;
  value: number;
}

export async function getServiceQuota(clients: AwsClients, quota: { serviceCode: string; quotaCode: string }): Promise<ServiceQuota> {
  const out = await clients.serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: quota.serviceCode, QuotaCode: quota.quotaCode }));
  return {
    serviceCode: quota.serviceCode,
    quotaCode: quota.quotaCode,
    name: out.Quota?.QuotaName ?? quota.quotaCode,
    value: out.Quota?.Value ?? 0,
  };
}
