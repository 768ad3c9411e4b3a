import * as fs from 'node:fs';
import { InternalError, UserError } from '../../../src/core/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { journalPath, runWorkflow } from '../../../src/orchestration/engine';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { parameterRef, parameterTask, readParameter, sixTasks } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

describe('runWorkflow: plan and apply', () => {
  it('plans a DAG of six tasks, applies it with dependency outputs, journals it, and reports the changes', async () => {
    const { deps, sb, home, events } = sandboxDeps();
    const result = await runWorkflow(deps, 'demo create', async (run) => {
      const plan = await run.plan(sixTasks('/demo'));
      expect(plan.map((c) => `${c.action} ${c.name}`)).toEqual(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => `create /demo/${k}`),
      );
      const applied = await run.apply(sixTasks('/demo'));
      return { applied, f: run.ctx.get(parameterRef('f'))!.value };
    });

    expect(result.f).toBe('alpha+c|alpha+bravo+d!');
    expect(result.run).toBe(deps.runId);
    expect(result.changes).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => ({
        action: 'create',
        type: 'Test::SSM::Parameter',
        name: `/demo/${k}`,
        id: `/demo/${k}`,
      })),
    );
    expect(result.apiCalls).toEqual(deps.clients.calls.snapshot());
    expect(result.apiCalls.write).toBe(6);
    expect((await readParameter(deps.clients, '/demo/e'))?.value).toBe('alpha+c|alpha+bravo+d');
    expect(sb.inventory().map((i) => i.id)).toEqual([
      '/demo/a',
      '/demo/b',
      '/demo/c',
      '/demo/d',
      '/demo/e',
      '/demo/f',
    ]);

    // Dependencies first: e starts only after c and d are done.
    const order = events.list
      .filter((e) => e.kind === 'step-start' || e.kind === 'step-done')
      .map((e) => `${e.kind}:${(e as { key: string }).key}`);
    expect(order.indexOf('step-start:e')).toBeGreaterThan(order.indexOf('step-done:c'));
    expect(order.indexOf('step-start:e')).toBeGreaterThan(order.indexOf('step-done:d'));
    expect(events.of('plan')).toHaveLength(1);

    const file = journalPath(home, deps.runId);
    expect(fs.statSync(`${home}/runs`).mode & 0o777).toBe(0o700);
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      kind: 'header',
      runId: deps.runId,
      title: 'demo create',
      region: 'us-east-1',
    });
    expect(lines.at(-1)).toMatchObject({ kind: 'end', outcome: 'succeeded' });
    const entries = lines.filter((l) => l.kind === 'entry');
    // write-ahead: every entry is first written as intended, then done
    expect(entries.filter((e) => e.status === 'intended')).toHaveLength(6);
    expect(entries.filter((e) => e.status === 'done')).toHaveLength(6);
    for (const done of entries.filter((e) => e.status === 'done')) {
      expect(entries.findIndex((e) => e.seq === done.seq && e.status === 'intended')).toBeLessThan(
        entries.indexOf(done),
      );
    }
  });

  it('makes no write call at all on a second run with the same input', async () => {
    const sb = new Sandbox();
    const first = sandboxDeps(sb);
    await runWorkflow(first.deps, 'first', async (run) => run.apply(sixTasks('/idem')).then(() => ({})));
    const writesBefore = sb.state.calls.write;
    const second = sandboxDeps(sb, { home: first.home });
    const result = await runWorkflow(second.deps, 'second', async (run) => {
      const plan = await run.plan(sixTasks('/idem'));
      await run.apply(sixTasks('/idem'));
      return { plan };
    });
    expect(second.deps.clients.calls.write).toBe(0);
    expect(sb.state.calls.write).toBe(writesBefore);
    expect(result.plan.every((c) => c.action === 'noop')).toBe(true);
    expect(result.changes.map((c) => c.action)).toEqual(Array(6).fill('noop'));
    // apply reused the plan's finds: one GetParameter per task in this run
    expect(second.deps.clients.calls.byOperation.get('GetParameter')).toBe(6);
  });

  it('updates what differs and shows the difference in the plan', async () => {
    const sb = new Sandbox();
    const first = sandboxDeps(sb);
    await runWorkflow(first.deps, 'first', async (run) => run.apply(sixTasks('/upd')).then(() => ({})));
    const second = sandboxDeps(sb, { home: first.home });
    const result = await runWorkflow(second.deps, 'second', async (run) => {
      const tasks = sixTasks('/upd', { b: { value: 'BRAVO' } });
      const plan = await run.plan(tasks);
      await run.apply(tasks);
      return { plan };
    });
    // The plan diffs against the dependencies' current state: only b differs now. Apply re-diffs d, e
    // and f after b changed, so the new value propagates.
    expect(result.plan.filter((c) => c.action === 'update').map((c) => [c.name, c.details])).toEqual([
      ['/upd/b', ['value: bravo -> BRAVO']],
    ]);
    expect(result.changes.filter((c) => c.action === 'update').map((c) => c.name)).toEqual([
      '/upd/b',
      '/upd/d',
      '/upd/e',
      '/upd/f',
    ]);
    expect((await readParameter(second.deps.clients, '/upd/f'))?.value).toBe('alpha+c|alpha+BRAVO+d!');
    expect(second.deps.clients.calls.write).toBe(4);
  });

  it('rejects a cycle or an unknown dependency as an internal error before any call', async () => {
    const { deps, sb } = sandboxDeps();
    const cyclic = [
      parameterTask({ key: 'x', name: '/x', value: '1', dependsOn: ['y'] }),
      parameterTask({ key: 'y', name: '/y', value: '1', dependsOn: ['x'] }),
    ];
    const err = await runWorkflow(deps, 'cycle', (run) => run.plan(cyclic).then(() => ({}))).catch((e) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.cause).toBeInstanceOf(InternalError);
    expect(err.cause.message).toMatch(/cycle: x -> y -> x/);
    const unknown = [parameterTask({ key: 'x', name: '/x', value: '1', dependsOn: ['nope'] })];
    const err2 = await runWorkflow(sandboxDeps(sb).deps, 'unknown', (run) =>
      run.apply(unknown).then(() => ({})),
    ).catch((e) => e);
    expect(err2.cause.message).toMatch(/x depends on unknown task nope/);
    expect(sb.state.calls.read + sb.state.calls.write).toBe(0);
  });

  it('rethrows a UserError raised before any write as it is', async () => {
    const { deps, home } = sandboxDeps();
    const err = await runWorkflow(deps, 'cancelled', async (run) => {
      await run.plan(sixTasks('/cancel'));
      throw new UserError('cancelled');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(fs.readFileSync(journalPath(home, deps.runId), 'utf8')).toMatch(/"outcome":"failed"/);
  });

  it('uses dependency outputs converged by an earlier apply() of the same run', async () => {
    const { deps } = sandboxDeps();
    const result = await runWorkflow(deps, 'two phases', async (run) => {
      await run.apply(sixTasks('/phase').slice(0, 2));
      await run.apply([
        parameterTask({
          key: 'z',
          name: '/phase/z',
          value: (ctx) => `${ctx.get(parameterRef('a'))!.value}-z`,
          dependsOn: ['a'],
        }),
      ]);
      return {};
    });
    expect(result.changes.map((c) => c.name)).toEqual(['/phase/a', '/phase/b', '/phase/z']);
    expect((await readParameter(deps.clients, '/phase/z'))?.value).toBe('alpha-z');
  });
});

describe('runWorkflow: dry runs', () => {
  it('a dry run (the body returns dryRun: true, no write) leaves no journal, so `runs list` does not show it', async () => {
    const { deps, home } = sandboxDeps();
    const result = await runWorkflow(deps, 'demo create', async (run) => {
      const planned = await run.plan(sixTasks('/dry'));
      return { dryRun: true, planned };
    });
    expect(result).toMatchObject({ dryRun: true, run: deps.runId, changes: [] });
    expect(result.apiCalls.write).toBe(0);
    expect(fs.existsSync(journalPath(home, deps.runId))).toBe(false);
    const { listRuns } = await import('../../../src/orchestration/engine');
    expect(listRuns(home)).toEqual([]);
  });

  it('a run that returns dryRun: false keeps its journal, recorded as succeeded', async () => {
    const { deps, home } = sandboxDeps();
    await runWorkflow(deps, 'demo create', async (run) => {
      await run.apply(sixTasks('/wet'));
      return { dryRun: false };
    });
    expect(fs.readFileSync(journalPath(home, deps.runId), 'utf8')).toMatch(/"outcome":"succeeded"/);
  });

  it('a dry run that fails keeps its journal as a failed run', async () => {
    const { deps, home } = sandboxDeps();
    await expect(
      runWorkflow(deps, 'demo create', async () => {
        throw new UserError('no such VPC');
      }),
    ).rejects.toBeInstanceOf(UserError);
    expect(fs.readFileSync(journalPath(home, deps.runId), 'utf8')).toMatch(/"outcome":"failed"/);
  });
});
