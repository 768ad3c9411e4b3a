// A replacement's capacity changes to a group, through a run: only what differs is sent, min, max and
// desired each land, --verbose says what changed, and the run lists the write as an update of the group.
import { AUTO_SCALING_GROUP_TYPE } from '../../src/resources/autoScalingGroup';
import { setCapacity } from '../../src/resources/groupReplacement';
import { runWorkflow } from '../../src/orchestration/engine';
import { Sandbox } from '../../src/sandbox/sandbox';
import { createAsgFixture, describeAsg, waitSettled } from '../helpers/asgFixture';
import { removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

afterAll(removeTestHomes);

async function group() {
  const sb = new Sandbox();
  const setup = sandboxDeps(sb).deps.clients;
  const fixture = await createAsgFixture(setup, { role: 'node', size: 2, minSize: 2, maxSize: 2 });
  const name = fixture.autoScalingGroupName;
  await waitSettled(setup, sb.clock, name);
  // A fresh client for the run: its call counts are the run's own.
  const { deps, events } = sandboxDeps(sb);
  return { sb, deps, events, name };
}

describe('setCapacity', () => {
  it('sets min, max and desired as asked, logs the change and reports an update of the group', async () => {
    const { deps, events, name } = await group();
    const result = await runWorkflow(deps, 'capacity', (run) =>
      run.step('capacity', async (ctx) => ({
        capacity: await setCapacity(
          ctx,
          name,
          { desired: 2, min: 2, max: 2 },
          { min: 1, max: 4, desired: 3 },
        ),
      })),
    );
    expect(result.capacity).toEqual({ desired: 3, min: 1, max: 4 });
    const g = await describeAsg(deps.clients, name);
    expect({ min: g!.MinSize, max: g!.MaxSize, desired: g!.DesiredCapacity }).toEqual({
      min: 1,
      max: 4,
      desired: 3,
    });
    expect(
      events
        .of('log')
        .filter((e) => e.level === 'debug')
        .map((e) => e.message),
    ).toContain(`${name}: desired: 2 -> 3, min: 2 -> 1, max: 2 -> 4`);
    expect(result.changes).toStrictEqual([
      { action: 'update', type: AUTO_SCALING_GROUP_TYPE, name, id: name },
    ]);
  });

  it('sends only what differs, and nothing when nothing does', async () => {
    const { deps, name } = await group();
    const result = await runWorkflow(deps, 'capacity', (run) =>
      run.step('capacity', async (ctx) => ({
        same: await setCapacity(ctx, name, { desired: 2, min: 2, max: 2 }, { desired: 2, min: 2 }),
        minOnly: await setCapacity(ctx, name, { desired: 2, min: 2, max: 2 }, { min: 1, max: 2 }),
      })),
    );
    expect(result.same).toEqual({ desired: 2, min: 2, max: 2 });
    expect(result.minOnly).toEqual({ desired: 2, min: 1, max: 2 });
    expect(result.apiCalls.write).toBe(1);
    const g = await describeAsg(deps.clients, name);
    expect({ min: g!.MinSize, max: g!.MaxSize, desired: g!.DesiredCapacity }).toEqual({
      min: 1,
      max: 2,
      desired: 2,
    });
  });
});
