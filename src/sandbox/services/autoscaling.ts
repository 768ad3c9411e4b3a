// Simulated AutoScaling (stub: filled in by the sandbox work).
import type { ServiceModule } from '../service';

export const autoScalingModule: ServiceModule = {
  service: 'autoscaling',
  operations: {},
};
