// Simulated Iam (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const iamModule: ServiceModule = {
  service: 'iam',
  operations: {},
};
