// SSM Run Command (AWS::SSM::Command, nothing to undo): runs a shell script on one instance with the
// AWS-RunShellScript document and polls GetCommandInvocation on the injected clock; and the SSM
// agent's registration (DescribeInstanceInformation), which decides whether a command can reach it.
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../core/clock';
import { awsErrorCode } from '../core/errors';
import type { EventSink } from '../core/events';
import { waitFor } from '../core/wait';

/** GetCommandInvocation returns at most this many characters of standard output. */
export const SSM_OUTPUT_LIMIT = 24_000;

const TERMINAL_STATUSES = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut']);

export interface SsmAgentState {
  /** Online: the agent answers and can receive commands. */
  online: boolean;
  /** Online, ConnectionLost, Inactive, or `NotRegistered` when the instance is not a managed node. */
  pingStatus: string;
}

/** Whether the SSM agent of `instanceId` is registered and online. */
export async function describeSsmAgent(clients: AwsClients, instanceId: string): Promise<SsmAgentState> {
  const res = await clients.ssm.send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
  );
  const info = res.InstanceInformationList?.find((i) => i.InstanceId === instanceId);
  if (!info) return { online: false, pingStatus: 'NotRegistered' };
  return { online: info.PingStatus === 'Online', pingStatus: info.PingStatus ?? 'Unknown' };
}

export interface ShellCommandResult {
  commandId: string;
  /** Success, Failed, Cancelled or TimedOut. */
  status: string;
  statusDetails?: string;
  /** The script's exit code (-1 when it did not run). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when stdout reached the API's output limit and may be cut. */
  truncated: boolean;
}

export interface ShellCommandOptions {
  /** For the command history in the console (never secrets). */
  comment?: string;
  /** How long to wait for a result (default 2 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Sends `commands` (AWS-RunShellScript, run as root) to one instance and waits for the result.
 * Errors of SendCommand (InvalidInstanceId: not a managed node or agent offline) are thrown as they are.
 */
export async function runShellCommand(
  ctx: { clients: AwsClients; clock: Clock; events: EventSink },
  instanceId: string,
  commands: string[],
  options: ShellCommandOptions = {},
): Promise<ShellCommandResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const sent = await ctx.clients.ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instanceId],
      Parameters: { commands },
      Comment: options.comment?.slice(0, 100),
      // The delivery timeout: SSM gives up on an agent that does not pick the command up (minimum 30 s).
      TimeoutSeconds: Math.max(30, Math.ceil(timeoutMs / 1000)),
    }),
  );
  const commandId = sent.Command?.CommandId ?? '';
  const invocation = await waitFor<GetCommandInvocationCommandOutput>(
    ctx,
    {
      what: `SSM command ${commandId} on ${instanceId}`,
      timeoutMs,
      intervalMs: 1000,
      maxIntervalMs: 5000,
      signal: options.signal,
      detail: true,
    },
    async () => {
      try {
        const inv = await ctx.clients.ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        );
        const status = inv.Status ?? 'Pending';
        return { done: TERMINAL_STATUSES.has(status), value: inv, seen: inv.StatusDetails ?? status };
      } catch (error) {
        // Right after SendCommand the invocation is not visible yet (eventual consistency).
        if (awsErrorCode(error) === 'InvocationDoesNotExist')
          return { done: false, seen: 'invocation not visible yet' };
        throw error;
      }
    },
  );
  const stdout = invocation.StandardOutputContent ?? '';
  return {
    commandId,
    status: invocation.Status ?? 'Failed',
    statusDetails: invocation.StatusDetails,
    exitCode: invocation.ResponseCode ?? -1,
    stdout,
    stderr: invocation.StandardErrorContent ?? '',
    truncated: stdout.length >= SSM_OUTPUT_LIMIT,
  };
}
