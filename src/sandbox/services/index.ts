// The simulated services, in tick order (EC2 first: the others read instance state).
import type { ServiceModule } from '../service';
import { ec2Module } from './ec2';
import { iamModule } from './iam';
import { ssmModule } from './ssm';
import { autoScalingModule } from './autoscaling';
import { elbv2Module } from './elbv2';
import { route53Module } from './route53';
import { acmModule } from './acm';
import { stsModule } from './sts';
import { serviceQuotasModule } from './serviceQuotas';

export const serviceModules: ServiceModule[] = [
  ec2Module,
  iamModule,
  ssmModule,
  autoScalingModule,
  elbv2Module,
  route53Module,
  acmModule,
  stsModule,
  serviceQuotasModule,
];
