// Which instances a shrinking group loses (chooseRemovals): never one already leaving; first those not
// on the wanted launch template version, then those the run added (not in `original`), then those not
// yet serving; within a rank the zone holding the most instances first, then by id.
import type { InventoryInstance } from '../../src/resources/autoScalingInstance';
import { chooseRemovals } from '../../src/resources/groupReplacement';

function instance(instanceId: string, o: Partial<InventoryInstance> = {}): InventoryInstance {
  return {
    instanceId,
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    availabilityZone: 'us-east-1a',
    version: '1',
    ...o,
  };
}

describe('chooseRemovals', () => {
  it('chooses nothing for a count of 0 or below, and at most the active instances', () => {
    const group = [instance('i-1'), instance('i-2'), instance('i-3')];
    expect(chooseRemovals(group, 0)).toEqual([]);
    expect(chooseRemovals(group, -1)).toEqual([]);
    expect(chooseRemovals(group, 5)).toEqual(['i-1', 'i-2', 'i-3']);
  });

  it('never chooses an instance that is already leaving the group', () => {
    const group = [
      instance('i-a', { lifecycleState: 'Terminating:Wait', version: '2' }),
      instance('i-b', { lifecycleState: 'Detaching', version: '2' }),
      instance('i-c'),
      instance('i-d'),
    ];
    expect(chooseRemovals(group, 1, { version: '1' })).toEqual(['i-c']);
    expect(chooseRemovals(group, 4, { version: '1' })).toEqual(['i-c', 'i-d']);
  });

  it('removes instances on another launch template version first, even the original ones', () => {
    const group = [instance('i-1'), instance('i-2', { version: '2' }), instance('i-3'), instance('i-9', { lifecycleState: 'Pending' })];
    expect(chooseRemovals(group, 1, { version: '1', original: ['i-1', 'i-2', 'i-3'] })).toEqual(['i-2']);
  });

  it('ignores versions when no version is wanted', () => {
    // Without a wanted version, an instance of unknown version is no better a choice than the others.
    const group = [instance('i-1', { version: undefined }), instance('i-2')];
    expect(chooseRemovals(group, 1)).toEqual(['i-1']);
    expect(chooseRemovals(group, 1, { original: ['i-1', 'i-2'] })).toEqual(['i-1']);
  });

  it('then removes what the run added (not original) before the original instances', () => {
    const group = [instance('i-1'), instance('i-2'), instance('i-3'), instance('i-4')];
    expect(chooseRemovals(group, 1, { original: ['i-1', 'i-2', 'i-4'] })).toEqual(['i-3']);
    expect(chooseRemovals(group, 2, { version: '1', original: ['i-1', 'i-2'] })).toEqual(['i-3', 'i-4']);
    // No original list: every instance is as good as another (by id).
    expect(chooseRemovals(group, 1, {})).toEqual(['i-1']);
  });

  it('then removes instances not yet serving: launching or unhealthy before InService and healthy', () => {
    const group = [
      instance('i-1'),
      instance('i-2', { healthStatus: 'Unhealthy' }),
      instance('i-3', { lifecycleState: 'Pending' }),
      instance('i-4'),
    ];
    expect(chooseRemovals(group, 2)).toEqual(['i-2', 'i-3']);
    expect(chooseRemovals([instance('i-1'), instance('i-2', { lifecycleState: 'Pending', healthStatus: 'Unhealthy' })], 1)).toEqual(['i-2']);
  });

  it('within a rank, takes from the zone with the most active instances, then by id', () => {
    const group = [
      instance('i-1', { availabilityZone: 'us-east-1a' }),
      instance('i-2', { availabilityZone: 'us-east-1b' }),
      instance('i-3', { availabilityZone: 'us-east-1b' }),
      instance('i-4', { availabilityZone: 'us-east-1c' }),
    ];
    expect(chooseRemovals(group, 1)).toEqual(['i-2']);
    expect(chooseRemovals(group, 3)).toEqual(['i-2', 'i-3', 'i-1']);
    // Leaving instances do not count toward their zone.
    const leaving = [
      instance('i-0', { availabilityZone: 'us-east-1a', lifecycleState: 'Terminating' }),
      instance('i-5', { availabilityZone: 'us-east-1a', lifecycleState: 'Terminating:Proceed' }),
      instance('i-1', { availabilityZone: 'us-east-1a' }),
      instance('i-6', { availabilityZone: 'us-east-1b' }),
      instance('i-7', { availabilityZone: 'us-east-1b' }),
    ];
    expect(chooseRemovals(leaving, 1)).toEqual(['i-6']);
  });

  it('ranks version above origin above serving above zone', () => {
    const group = [
      instance('i-1', { availabilityZone: 'us-east-1b' }),
      instance('i-2', { availabilityZone: 'us-east-1b' }),
      instance('i-3', { availabilityZone: 'us-east-1a', lifecycleState: 'Pending' }),
      instance('i-4', { availabilityZone: 'us-east-1a' }),
      instance('i-5', { availabilityZone: 'us-east-1a', version: '2' }),
    ];
    expect(chooseRemovals(group, 5, { version: '1', original: ['i-1', 'i-2', 'i-3'] })).toEqual(['i-5', 'i-4', 'i-3', 'i-1', 'i-2']);
  });
});
