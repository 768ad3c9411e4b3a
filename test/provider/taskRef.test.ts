// Typed references between tasks: a task is its own ref, ctx.get(ref) is typed by the task's state
// (and may be undefined), taskRef(key) reads the same output, requiredOutput refuses a missing one.
import { InternalError } from '../../src/core/errors';
import { openRun, runWorkflow } from '../../src/orchestration/engine';
import { requiredOutput, taskRef } from '../../src/provider/taskRef';
import type { RunContext, Task, TaskRef } from '../../src/provider/types';
import { parameterRef, parameterTask, type ParameterState } from '../orchestration/fixtures/parameterTask';
import { removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

afterAll(removeTestHomes);

describe('typed task references', () => {
  it('reads a task output through the task itself and through a ref by its key', async () => {
    const { deps } = sandboxDeps();
    const a = parameterTask({ key: 'a', name: '/ref/a', value: 'alpha' });
    const b = parameterTask({
      key: 'b',
      name: '/ref/b',
      value: (ctx) => `${requiredOutput(ctx, a).value}+b`,
      dependsOn: ['a'],
    });
    const result = await runWorkflow(deps, 'refs', async (run) => {
      const before = run.ctx.get(a);
      await run.apply([a, b]);
      const viaTask: ParameterState | undefined = run.ctx.get(b);
      return { before, viaTask: viaTask?.value, viaKey: run.ctx.get(parameterRef('b'))?.value };
    });
    expect(result.before).toBeUndefined();
    expect(result.viaTask).toBe('alpha+b');
    expect(result.viaKey).toBe('alpha+b');
  });

  it('a task depends on the tasks it is given as refs (the engine orders by their keys)', async () => {
    const { deps } = sandboxDeps();
    const first = parameterTask({ key: 'first', name: '/ref/first', value: '1' });
    const second: Task<ParameterState> = {
      ...parameterTask({ key: 'second', name: '/ref/second', value: (ctx) => `${ctx.get(first)?.value ?? 'none'}+2` }),
      dependsOn: [first],
    };
    const result = await runWorkflow(deps, 'order', async (run) => {
      await run.apply([second, first]);
      return { second: run.ctx.get(second)?.value };
    });
    expect(result.second).toBe('1+2');
  });

  it('requiredOutput throws an InternalError naming the task when its output is missing', () => {
    const run = openRun(sandboxDeps().deps, 'missing');
    expect(() => requiredOutput(run.ctx, taskRef<ParameterState>('nowhere'))).toThrow(InternalError);
    expect(() => requiredOutput(run.ctx, taskRef<ParameterState>('nowhere'))).toThrow(/task nowhere/);
  });

  it('is checked by the compiler', () => {
    interface Lb {
      arn: string;
    }
    interface Sg {
      groupId: string;
    }
    const lb = { key: 'lb' } as Task<Lb>;
    const ctx = { get: () => undefined } as unknown as RunContext;
    const asRef: TaskRef<Lb> = lb;
    const out: Lb | undefined = ctx.get(lb);
    // @ts-expect-error a ref reads the state of its own task, not another kind's
    const wrong: TaskRef<Sg> = lb;
    // @ts-expect-error a string key is no ref: outputs are read through typed refs only
    ctx.get('lb');
    // @ts-expect-error an output may be absent (dry run, task not run yet)
    const sure: Lb = ctx.get(lb);
    expect([asRef.key, out, wrong.key, sure]).toEqual(['lb', undefined, 'lb', undefined]);
  });
});
