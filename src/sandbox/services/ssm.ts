// Simulated SSM: Parameter Store (ssm/parameters.ts) and Run Command against the instance-side model
// (ssm/runCommand.ts).
import type { ServiceModule } from '../service';
import { parameterInventory, parameterOperations } from './ssm/parameters';
import { applyCommandTransitions, runCommandOperations } from './ssm/runCommand';

export const ssmModule: ServiceModule = {
  service: 'ssm',
  operations: {
    ...parameterOperations,
    ...runCommandOperations,
  },
  tick: applyCommandTransitions,
  inventory: (ctx) => parameterInventory(ctx),
};
