// Changes a resource cannot apply in place (FieldChange.replace): the engine refuses them before any
// write unless the task says how it replaces, and then replaces instead of updating.
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { UserError } from '../../../src/core/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { runWorkflow, type Task } from '../../../src/orchestration/engine';
import type { FieldChange } from '../../../src/provider/fieldChange';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { parameterTask, readParameter, type ParameterState } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

async function put(sb: Sandbox, name: string, value: string): Promise<void> {
  await sandboxDeps(sb).deps.clients.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' }));
}

/** A synthetic kind whose `kind` field has no update API: its diff says so with `replace`. */
function immutableKind(key: string, name: string): Task<ParameterState> {
  const base = parameterTask({ key, name, value: 'v' });
  return {
    ...base,
    diff: (): FieldChange[] => [
      { field: 'kind', from: 'standard', to: 'advanced', replace: true },
      { field: 'value', from: 'v', to: 'w' },
    ],
  };
}

describe('replacements', () => {
  it('plan refuses a change that needs a replacement: a UserError naming the resource and field, before any write', async () => {
    const sb = new Sandbox();
    await put(sb, '/imm/p', 'v');
    const { deps } = sandboxDeps(sb);
    let updated = false;
    const task: Task<ParameterState> = {
      ...immutableKind('p', '/imm/p'),
      update: async (actual) => ((updated = true), actual),
    };
    const other = parameterTask({ key: 'other', name: '/imm/other', value: 'o' });
    const err = await runWorkflow(deps, 'immutable', async (run) => {
      await run.plan([other, task as Task]);
      await run.apply([other, task as Task]);
      return {};
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(RunFailedError);
    const e = err as UserError;
    expect(e.message).toContain('Test::SSM::Parameter /imm/p');
    expect(e.message).toContain('kind cannot be changed in place (kind: standard -> advanced)');
    expect(e.field).toBe('kind');
    expect(updated).toBe(false);
    expect(await readParameter(deps.clients, '/imm/other')).toBeUndefined();
    expect(deps.clients.calls.snapshot().write).toBe(0);
  });

  it('apply without a plan refuses it too, before the task writes', async () => {
    const sb = new Sandbox();
    await put(sb, '/imm2/p', 'v');
    const { deps } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'immutable', (run) =>
      run.apply([immutableKind('p', '/imm2/p') as Task]).then(() => ({})),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('/imm2/p: kind cannot be changed in place');
    expect((await readParameter(deps.clients, '/imm2/p'))?.value).toBe('v');
  });

  it('a task that says how it replaces is replaced (not updated), with the typed changes, and shown as an update', async () => {
    const sb = new Sandbox();
    await put(sb, '/imm3/p', 'v');
    const { deps } = sandboxDeps(sb);
    const seen: FieldChange[][] = [];
    const task: Task<ParameterState> = {
      ...immutableKind('p', '/imm3/p'),
      update: () => Promise.reject(new Error('update must not run for a replacement')),
      replace: async (actual, changes) => {
        seen.push(changes);
        return { ...actual, version: actual.version + 1 };
      },
    };
    const result = await runWorkflow(deps, 'replaced', async (run) => {
      const planned = await run.plan([task as Task]);
      const applied = await run.apply([task as Task]);
      return { planned, applied };
    });
    expect(seen).toEqual([
      [
        { field: 'kind', from: 'standard', to: 'advanced', replace: true },
        { field: 'value', from: 'v', to: 'w' },
      ],
    ]);
    expect(result.planned[0]).toMatchObject({ action: 'update', details: ['kind: standard -> advanced', 'value: v -> w'] });
    expect(result.applied[0]).toMatchObject({ action: 'update', details: ['kind: standard -> advanced', 'value: v -> w'] });
  });
});
