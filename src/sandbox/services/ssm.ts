// Simulated Ssm (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const ssmModule: ServiceModule = {
  service: 'ssm',
  operations: {},
};
