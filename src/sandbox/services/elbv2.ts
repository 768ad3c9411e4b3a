// Simulated Elbv2 (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const elbv2Module: ServiceModule = {
  service: 'elbv2',
  operations: {},
};
