// Simulated Acm (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const acmModule: ServiceModule = {
  service: 'acm',
  operations: {},
};
