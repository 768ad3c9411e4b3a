// The contract between the sandbox core and its simulated services.
import type { SandboxContext, ServiceName } from './account';

/** Handles one API operation: validates like AWS, mutates state, returns the SDK output shape. Sync. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OperationHandler = (ctx: SandboxContext, input: any) => any;

export interface InventoryItem {
  /** CloudFormation-style type, e.g. AWS::EC2::Instance. */
  type: string;
  id: string;
  /** Extra fields that must match for two inventories to be equal (state, capacity, weights...). */
  fingerprint?: string;
}

export interface ServiceModule {
  service: ServiceName;
  operations: Record<string, OperationHandler>;
  /** Applies time-driven transitions up to ctx.now (called before every call and when time advances). */
  tick?(ctx: SandboxContext): void;
  /** Everything that exists in this service for a region (global services: ignore region). */
  inventory?(ctx: SandboxContext, options: { includeDefaults: boolean }): InventoryItem[];
}
