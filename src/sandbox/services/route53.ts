// Simulated Route53 (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const route53Module: ServiceModule = {
  service: 'route53',
  operations: {},
};
