// Simulated SSM: Parameter Store (ssm/parameters.ts), Run Command against the instance-side model
// (ssm/runCommand.ts), and the parameters instances write themselves (instanceModel.ts).
import type { ServiceModule } from '../service';
import { parameterInventory, parameterOperations } from './ssm/parameters';
import { applyCommandTransitions, runCommandOperations } from './ssm/runCommand';
import { applyInstanceSideWrites } from '../instanceModel';

export const ssmModule: ServiceModule = {
  service: 'ssm',
  operations: {
    ...parameterOperations,
    ...runCommandOperations,
  },
  tick: (ctx) => {
    applyCommandTransitions(ctx);
    // What instances write under their cluster's SSM path (and their own Unhealthy status).
    applyInstanceSideWrites(ctx);
  },
  inventory: (ctx) => parameterInventory(ctx),
};
