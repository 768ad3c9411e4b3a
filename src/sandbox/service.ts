// The contract between the sandbox core and its simulated services, and the types that tie each
// handler to the SDK's own input and output shapes of its operation.
import type { MiddlewareStack } from '@smithy/types';
import type { SandboxContext, ServiceName } from './account';

/** The input and output types of an SDK command class, read from its middleware stack. */
type CommandIo<C> = C extends abstract new (...args: never[]) => { middlewareStack: MiddlewareStack<infer I, infer O> }
  ? { input: I; output: O }
  : never;

/** The operation names of an SDK client package (`typeof import('@aws-sdk/client-ec2')`): its `${Op}Command` exports. */
export type SdkOperation<Sdk> = { [K in keyof Sdk]: K extends `${infer Op}Command` ? Op : never }[keyof Sdk];

type IoOf<Sdk, Op extends SdkOperation<Sdk>> = CommandIo<Sdk[`${Op}Command` & keyof Sdk]>;

/**
 * Handles one API operation: validates like AWS, mutates state, returns the SDK output shape (without
 * the `$metadata` the dispatcher adds). Sync. `HandlerOf<typeof Ec2Sdk, 'RunInstances'>` takes a
 * RunInstancesCommandInput and returns a RunInstancesCommandOutput.
 */
export type HandlerOf<Sdk, Op extends SdkOperation<Sdk>> = (
  ctx: SandboxContext,
  input: IoOf<Sdk, Op>['input'],
) => Omit<IoOf<Sdk, Op>['output'], '$metadata'>;

/** A service's handlers: operations of its SDK client, each typed with that operation's own input and output. */
export type OperationsOf<Sdk> = { [Op in SdkOperation<Sdk>]?: HandlerOf<Sdk, Op> };

/**
 * A handler as the dispatcher holds it, whatever its operation: the dispatcher finds it by the name of
 * the command the SDK client built, so the input it passes is that command's input.
 */
export type OperationHandler = (ctx: SandboxContext, input: never) => object;

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
