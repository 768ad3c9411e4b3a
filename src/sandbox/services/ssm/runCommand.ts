// SSM Run Command (AWS-RunShellScript) and the managed-instance inventory, executed by the
// instance-side model (src/sandbox/instanceModel.ts). An invocation is invisible for a moment after
// SendCommand (GetCommandInvocation -> InvocationDoesNotExist), Pending, InProgress, then
// Success/Failed once `timings.ssmCommandMs` has passed; the script's result is taken at that moment.
// Instances named in behavior.ssmNoOutput answer every command `Success` with empty output (moto does).
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import type { SandboxContext } from '../../account';
import { getInstance, listInstances, type SbInstance } from '../ec2';
import { isSsmAgentOnline, runShellScript, SSM_AGENT_ONLINE_MS } from '../../instanceModel';
import { asgNameOf, privateDnsName } from '../ec2/instances';
import { behaviorApplies } from '../../account';
import type * as SsmSdk from '@aws-sdk/client-ssm';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof SsmSdk>> = HandlerOf<typeof SsmSdk, Op>;

/** An invocation becomes visible to GetCommandInvocation this long after SendCommand. */
const INVOCATION_VISIBLE_MS = 400;
/** AWS truncates StandardOutputContent / StandardErrorContent to 24,000 characters. */
const MAX_OUTPUT_CHARS = 24_000;

interface Invocation {
  InstanceId: string;
  /** Set when the invocation finishes. */
  result?: {
    status: 'Success' | 'Failed' | 'TimedOut';
    details: string;
    code: number;
    stdout: string;
    stderr: string;
    finishedAt: number;
  };
}

interface CommandRecord {
  CommandId: string;
  DocumentName: string;
  Comment?: string;
  commands: string[];
  InstanceIds: string[];
  requestedAt: number;
  TimeoutSeconds: number;
  invocations: Invocation[];
}

interface RunCommandState {
  commands: Record<string, CommandRecord>;
}

function runState(ctx: SandboxContext): RunCommandState {
  const s = ctx.sb.serviceState<Record<string, unknown>>('ssm', ctx.region, () => ({}));
  if (s.commands === undefined) s.commands = {};
  return s as unknown as RunCommandState;
}

/** Run Command keeps a command's history for 30 days. */
const COMMAND_HISTORY_MS = 30 * 24 * 3600 * 1000;

/** Finishes every invocation that is due (called from the SSM tick). */
export function applyCommandTransitions(ctx: SandboxContext): void {
  const now = ctx.sb.now();
  const commands = runState(ctx).commands;
  for (const cmd of Object.values(commands)) {
    if (now - cmd.requestedAt > COMMAND_HISTORY_MS) {
      delete commands[cmd.CommandId];
      continue;
    }
    const finishAt = cmd.requestedAt + ctx.sb.behavior.timings.ssmCommandMs;
    if (now < finishAt) continue;
    for (const inv of cmd.invocations) {
      if (inv.result) continue;
      const inst = getInstance({ ...ctx, now }, inv.InstanceId);
      if (!inst || !isSsmAgentOnline({ ...ctx, now }, inst)) {
        inv.result = {
          status: 'Failed',
          details: 'Undeliverable',
          code: -1,
          stdout: '',
          stderr: '',
          finishedAt: finishAt,
        };
        continue;
      }
      if (behaviorApplies(ctx.sb.behavior.ssmNoOutput, inst.InstanceId, asgNameOf(inst))) {
        inv.result = { status: 'Success', details: 'Success', code: 0, stdout: '', stderr: '', finishedAt: finishAt };
        continue;
      }
      const r = runShellScript({ ...ctx, now }, inv.InstanceId, cmd.commands);
      inv.result = {
        status: r.exitCode === 0 ? 'Success' : 'Failed',
        details: r.exitCode === 0 ? 'Success' : 'Failed',
        code: r.exitCode,
        stdout: r.stdout.slice(0, MAX_OUTPUT_CHARS),
        stderr: r.stderr.slice(0, MAX_OUTPUT_CHARS),
        finishedAt: finishAt,
      };
    }
  }
}

/** The statuses the sandbox's invocations go through: valid as command, invocation and plugin statuses alike. */
type RunStatus = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut';

type Phase = { status: RunStatus; details: string };

function phaseOf(ctx: SandboxContext, cmd: CommandRecord, inv: Invocation): Phase {
  if (inv.result) return { status: inv.result.status, details: inv.result.details };
  const inProgressAt = cmd.requestedAt + ctx.sb.behavior.timings.ssmCommandMs / 2;
  return ctx.now >= inProgressAt
    ? { status: 'InProgress', details: 'InProgress' }
    : { status: 'Pending', details: 'Pending' };
}

function commandStatus(ctx: SandboxContext, cmd: CommandRecord): RunStatus {
  const phases = cmd.invocations.map((inv) => phaseOf(ctx, cmd, inv).status);
  if (phases.some((p) => p === 'Pending'))
    return phases.every((p) => p === 'Pending') ? 'Pending' : 'InProgress';
  if (phases.some((p) => p === 'InProgress')) return 'InProgress';
  return phases.every((p) => p === 'Success') ? 'Success' : 'Failed';
}

function commandOutput(ctx: SandboxContext, cmd: CommandRecord): SsmSdk.Command {
  const done = cmd.invocations.filter((i) => i.result);
  return {
    CommandId: cmd.CommandId,
    DocumentName: cmd.DocumentName,
    DocumentVersion: '$DEFAULT',
    Comment: cmd.Comment ?? '',
    Parameters: { commands: cmd.commands },
    InstanceIds: cmd.InstanceIds,
    Targets: [],
    RequestedDateTime: new Date(cmd.requestedAt),
    ExpiresAfter: new Date(cmd.requestedAt + (cmd.TimeoutSeconds + 3600) * 1000),
    Status: commandStatus(ctx, cmd),
    StatusDetails: commandStatus(ctx, cmd),
    TargetCount: cmd.invocations.length,
    CompletedCount: done.length,
    ErrorCount: done.filter((i) => i.result?.status === 'Failed' && i.result.details !== 'Undeliverable')
      .length,
    DeliveryTimedOutCount: 0,
    MaxConcurrency: '50',
    MaxErrors: '0',
    TimeoutSeconds: cmd.TimeoutSeconds,
  };
}

function resolveTargets(
  ctx: SandboxContext,
  input: { InstanceIds?: string[]; Targets?: { Key?: string; Values?: string[] }[] },
): string[] {
  const ids = new Set<string>(input.InstanceIds ?? []);
  for (const t of input.Targets ?? []) {
    const key = t.Key ?? '';
    const values = t.Values ?? [];
    if (key === 'InstanceIds') values.forEach((v) => ids.add(v));
    else if (key.startsWith('tag:')) {
      for (const inst of listInstances(ctx)) {
        if (
          inst.Tags.some((tag) => tag.Key === key.slice(4) && values.includes(tag.Value)) &&
          isSsmAgentOnline(ctx, inst)
        )
          ids.add(inst.InstanceId);
      }
    } else if (key === 'tag-key') {
      for (const inst of listInstances(ctx))
        if (inst.Tags.some((tag) => values.includes(tag.Key)) && isSsmAgentOnline(ctx, inst))
          ids.add(inst.InstanceId);
    } else {
      throw awsError('InvalidTarget', `Target key ${key} is not supported.`);
    }
  }
  return [...ids];
}

const sendCommand: Handler<'SendCommand'> = (ctx, input) => {
  const documentName = required<string>(input.DocumentName, 'DocumentName', 'ValidationException');
  if (documentName !== 'AWS-RunShellScript') {
    throw awsError(
      'InvalidDocument',
      `Document with name ${documentName} does not exist (the sandbox runs AWS-RunShellScript only).`,
    );
  }
  const commands: string[] | undefined = input.Parameters?.commands;
  if (!commands || commands.length === 0)
    throw awsError('InvalidParameters', 'Parameter "commands" is required and must not be empty.');
  if (!input.InstanceIds?.length && !input.Targets?.length) {
    throw awsError('ValidationException', 'Either InstanceIds or Targets must be specified.');
  }
  const ids = resolveTargets(ctx, input);
  if (ids.length > 50) throw awsError('ValidationException', 'A command can target at most 50 instance ids.');
  // Ids EC2 has never heard of are refused outright; known but offline instances get an Undeliverable invocation.
  const unknown = ids.filter((id) => !getInstance(ctx, id));
  if (unknown.length)
    throw awsError(
      'InvalidInstanceId',
      `Instances [[${unknown.join(', ')}]] not in a valid state for account ${ctx.sb.state.accountId}`,
    );
  const cmd: CommandRecord = {
    CommandId: randomUUIDFrom(ctx),
    DocumentName: documentName,
    Comment: input.Comment,
    commands,
    InstanceIds: ids,
    requestedAt: ctx.now,
    TimeoutSeconds: input.TimeoutSeconds ?? 3600,
    invocations: ids.map((InstanceId) => ({ InstanceId })),
  };
  runState(ctx).commands[cmd.CommandId] = cmd;
  return { Command: commandOutput(ctx, cmd) };
};

/** Command ids are UUIDs; derived from the sandbox sequence so runs are reproducible. */
function randomUUIDFrom(ctx: SandboxContext): string {
  const hex = ctx.sb.newId('', 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function findInvocation(
  ctx: SandboxContext,
  commandId: string,
  instanceId: string,
): { cmd: CommandRecord; inv: Invocation } {
  const cmd = runState(ctx).commands[commandId];
  const inv = cmd?.invocations.find((i) => i.InstanceId === instanceId);
  if (!cmd || !inv || ctx.now < cmd.requestedAt + INVOCATION_VISIBLE_MS) {
    throw awsError('InvocationDoesNotExist', '');
  }
  return { cmd, inv };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const getCommandInvocation: Handler<'GetCommandInvocation'> = (ctx, input) => {
  const commandId = required<string>(input.CommandId, 'CommandId', 'ValidationException');
  const instanceId = required<string>(input.InstanceId, 'InstanceId', 'ValidationException');
  if (!/^[0-9a-f-]{36}$/.test(commandId)) throw awsError('InvalidCommandId', '');
  applyCommandTransitions(ctx);
  const { cmd, inv } = findInvocation(ctx, commandId, instanceId);
  const phase = phaseOf(ctx, cmd, inv);
  const r = inv.result;
  const started =
    r?.details === 'Undeliverable' ? undefined : cmd.requestedAt + ctx.sb.behavior.timings.ssmCommandMs / 2;
  return {
    CommandId: cmd.CommandId,
    InstanceId: inv.InstanceId,
    Comment: cmd.Comment ?? '',
    DocumentName: cmd.DocumentName,
    DocumentVersion: '$DEFAULT',
    PluginName: 'aws:runShellScript',
    ResponseCode: r ? r.code : -1,
    ExecutionStartDateTime: started !== undefined && ctx.now >= started ? iso(started) : '',
    ExecutionElapsedTime:
      r && started !== undefined ? `PT${((r.finishedAt - started) / 1000).toFixed(3)}S` : '',
    ExecutionEndDateTime: r && started !== undefined ? iso(r.finishedAt) : '',
    Status: phase.status,
    StatusDetails: phase.details,
    StandardOutputContent: r?.stdout ?? '',
    StandardOutputUrl: '',
    StandardErrorContent: r?.stderr ?? '',
    StandardErrorUrl: '',
    CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
  };
};

const listCommandInvocations: Handler<'ListCommandInvocations'> = (ctx, input) => {
  applyCommandTransitions(ctx);
  const all = Object.values(runState(ctx).commands)
    .filter((c) => !input.CommandId || c.CommandId === input.CommandId)
    .filter((c) => ctx.now >= c.requestedAt + INVOCATION_VISIBLE_MS)
    .sort((a, b) => b.requestedAt - a.requestedAt)
    .flatMap((cmd) =>
      cmd.invocations
        .filter((inv) => !input.InstanceId || inv.InstanceId === input.InstanceId)
        .map((inv) => ({ cmd, inv })),
    );
  const filtered = all.filter(({ cmd, inv }) =>
    (input.Filters ?? []).every((f: { key?: string; value?: string }) => {
      if (f.key === 'Status') return phaseOf(ctx, cmd, inv).status === f.value;
      if (f.key === 'DocumentName') return cmd.DocumentName === f.value;
      throw awsError('InvalidFilterKey', `The filter key ${f.key} is not valid.`);
    }),
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return {
    CommandInvocations: page.map(({ cmd, inv }) => {
      const phase = phaseOf(ctx, cmd, inv);
      const inst = getInstance(ctx, inv.InstanceId);
      return {
        CommandId: cmd.CommandId,
        InstanceId: inv.InstanceId,
        InstanceName: inst ? privateDnsName(ctx.region, inst.PrivateIpAddress) : '',
        Comment: cmd.Comment ?? '',
        DocumentName: cmd.DocumentName,
        DocumentVersion: '$DEFAULT',
        RequestedDateTime: new Date(cmd.requestedAt),
        Status: phase.status,
        StatusDetails: phase.details,
        StandardOutputUrl: '',
        StandardErrorUrl: '',
        CommandPlugins: input.Details
          ? [
              {
                Name: 'aws:runShellScript',
                Status: phase.status,
                StatusDetails: phase.details,
                ResponseCode: inv.result?.code ?? -1,
                Output: inv.result
                  ? `${inv.result.stdout}${inv.result.stderr ? `\n----------ERROR-------\n${inv.result.stderr}` : ''}`.slice(
                      0,
                      2500,
                    )
                  : '',
              },
            ]
          : [],
      };
    }),
    NextToken: nextToken,
  };
};

const listCommands: Handler<'ListCommands'> = (ctx, input) => {
  const all = Object.values(runState(ctx).commands)
    .filter((c) => !input.CommandId || c.CommandId === input.CommandId)
    .filter((c) => !input.InstanceId || c.InstanceIds.includes(input.InstanceId))
    .sort((a, b) => b.requestedAt - a.requestedAt);
  if (input.CommandId && all.length === 0) throw awsError('InvalidCommandId', '');
  const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults);
  return { Commands: page.map((c) => commandOutput(ctx, c)), NextToken: nextToken };
};

function pingStatus(ctx: SandboxContext, inst: SbInstance): SsmSdk.PingStatus | undefined {
  if (isSsmAgentOnline(ctx, inst)) return 'Online';
  // An agent that has been online shows ConnectionLost once its instance goes away.
  const wasOnline =
    inst.IamInstanceProfileArn !== undefined && ctx.now >= inst.runningAt + SSM_AGENT_ONLINE_MS;
  return wasOnline && inst.state !== 'pending' ? 'ConnectionLost' : undefined;
}

const describeInstanceInformation: Handler<'DescribeInstanceInformation'> = (ctx, input) => {
  const wanted = new Set<string>();
  const byKey: Record<string, string[]> = {};
  // A filter without a key files under 'undefined', which the key check below refuses.
  for (const f of input.InstanceInformationFilterList ?? [])
    byKey[String(f.key)] = [...(byKey[String(f.key)] ?? []), ...(f.valueSet ?? [])];
  for (const f of input.Filters ?? []) byKey[String(f.Key)] = [...(byKey[String(f.Key)] ?? []), ...(f.Values ?? [])];
  for (const id of byKey.InstanceIds ?? []) wanted.add(id);
  const rows = listInstances(ctx)
    .filter((i) => i.state !== 'terminated')
    .map((inst) => ({ inst, ping: pingStatus(ctx, inst) }))
    .filter((r): r is { inst: SbInstance; ping: SsmSdk.PingStatus } => r.ping !== undefined)
    .filter((r) => wanted.size === 0 || wanted.has(r.inst.InstanceId))
    .filter((r) =>
      Object.entries(byKey).every(([key, values]) => {
        if (key === 'InstanceIds') return true;
        if (key === 'PingStatus') return values.includes(r.ping);
        if (key === 'PlatformTypes') return values.includes('Linux');
        if (key === 'ResourceType') return values.includes('EC2Instance');
        if (key.startsWith('tag:'))
          return r.inst.Tags.some((t) => t.Key === key.slice(4) && values.includes(t.Value));
        if (key === 'tag-key') return r.inst.Tags.some((t) => values.includes(t.Key));
        throw awsError('InvalidInstanceInformationFilterValue', `The filter key ${key} is not valid.`);
      }),
    )
    .sort(
      (a, b) => a.inst.launchedAt - b.inst.launchedAt || a.inst.InstanceId.localeCompare(b.inst.InstanceId),
    );
  if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 50)) {
    throw awsError(
      'ValidationException',
      `1 validation error detected: Value '${input.MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50`,
    );
  }
  const { page, nextToken } = paginate(rows, input.NextToken, input.MaxResults);
  return {
    InstanceInformationList: page.map(({ inst, ping }) => ({
      InstanceId: inst.InstanceId,
      PingStatus: ping,
      LastPingDateTime: new Date(ping === 'Online' ? ctx.now : inst.runningAt + SSM_AGENT_ONLINE_MS),
      AgentVersion: '3.3.1142.0',
      IsLatestVersion: true,
      PlatformType: 'Linux',
      PlatformName: 'Amazon Linux',
      PlatformVersion: '2023',
      ResourceType: 'EC2Instance',
      IPAddress: inst.PrivateIpAddress,
      ComputerName: privateDnsName(ctx.region, inst.PrivateIpAddress),
      AssociationStatus: 'Success',
      SourceId: inst.InstanceId,
      SourceType: 'AWS::EC2::Instance',
    })),
    NextToken: nextToken,
  };
};

export const runCommandOperations = {
  SendCommand: sendCommand,
  GetCommandInvocation: getCommandInvocation,
  ListCommandInvocations: listCommandInvocations,
  ListCommands: listCommands,
  DescribeInstanceInformation: describeInstanceInformation,
} satisfies OperationsOf<typeof SsmSdk>;
