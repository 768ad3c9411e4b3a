// Simulated Service Quotas: the one quota k3sctl reads, EC2's Running On-Demand Standard (A, C, D, H,
// I, M, R, T, Z) instances (L-1216C47A, in vCPUs): its applied value (behaviour knob onDemandVcpuQuota)
// and the AWS default. Any other quota is NoSuchResourceException, as for a code AWS does not know.
import { awsError, required } from '../errors';
import type * as ServiceQuotasSdk from '@aws-sdk/client-service-quotas';
import type { HandlerOf, OperationsOf, SdkOperation, ServiceModule } from '../service';
import { DEFAULT_ON_DEMAND_VCPU_QUOTA, type SandboxContext } from '../account';

export const ON_DEMAND_STANDARD_QUOTA_CODE = 'L-1216C47A';
/** The AWS default of L-1216C47A (what a new account starts with). */
const AWS_DEFAULT_ON_DEMAND_VCPUS = 5;

type Handler<Op extends SdkOperation<typeof ServiceQuotasSdk>> = HandlerOf<typeof ServiceQuotasSdk, Op>;

function quota(
  ctx: SandboxContext,
  input: ServiceQuotasSdk.GetServiceQuotaCommandInput,
  value: number,
): Omit<ServiceQuotasSdk.GetServiceQuotaCommandOutput, '$metadata'> {
  const serviceCode = required<string>(input.ServiceCode, 'ServiceCode', 'ValidationException');
  const quotaCode = required<string>(input.QuotaCode, 'QuotaCode', 'ValidationException');
  if (serviceCode !== 'ec2' || quotaCode !== ON_DEMAND_STANDARD_QUOTA_CODE) {
    throw awsError('NoSuchResourceException', `The request failed because the specified service quota ${serviceCode}/${quotaCode} does not exist.`);
  }
  return {
    Quota: {
      ServiceCode: 'ec2',
      ServiceName: 'Amazon Elastic Compute Cloud (Amazon EC2)',
      QuotaArn: `arn:aws:servicequotas:${ctx.region}:${ctx.sb.state.accountId}:ec2/${quotaCode}`,
      QuotaCode: quotaCode,
      QuotaName: 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances',
      Value: value,
      Unit: 'None',
      Adjustable: true,
      GlobalQuota: false,
      UsageMetric: {
        MetricNamespace: 'AWS/Usage',
        MetricName: 'ResourceCount',
        MetricDimensions: { Class: 'Standard/OnDemand', Resource: 'vCPU', Service: 'EC2', Type: 'Resource' },
        MetricStatisticRecommendation: 'Maximum',
      },
    },
  };
}

const getServiceQuota: Handler<'GetServiceQuota'> = (ctx, input) => quota(ctx, input, ctx.sb.behavior.onDemandVcpuQuota ?? DEFAULT_ON_DEMAND_VCPU_QUOTA);

const getAwsDefaultServiceQuota: Handler<'GetAWSDefaultServiceQuota'> = (ctx, input) => quota(ctx, input, AWS_DEFAULT_ON_DEMAND_VCPUS);

export const serviceQuotasModule: ServiceModule = {
  service: 'servicequotas',
  operations: {
    GetServiceQuota: getServiceQuota,
    GetAWSDefaultServiceQuota: getAwsDefaultServiceQuota,
  } satisfies OperationsOf<typeof ServiceQuotasSdk>,
};
