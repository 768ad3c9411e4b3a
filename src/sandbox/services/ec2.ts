// Simulated Ec2 (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const ec2Module: ServiceModule = {
  service: 'ec2',
  operations: {},
};
