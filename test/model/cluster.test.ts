// The cluster model's pure edits: a group added or replaced, and a k3s version set (what upgrade stores).
import { withGroup, withK3sVersion, type StoredClusterConfig, type StoredGroup } from '../../src/model/cluster';
import { storedCluster, storedGroup } from '../helpers/storedModel';

const group = (name: string, k3sVersion = 'v1.31.6+k3s1'): StoredGroup => storedGroup(name, { subnetIds: ['subnet-1'], k3sVersion });

const config: StoredClusterConfig = storedCluster([group('control-plane'), group('nodes')], { subnetIds: ['subnet-1'] });

describe('cluster model edits', () => {
  it('withK3sVersion sets every group and the cluster\'s own version with all, only the named groups otherwise', () => {
    const all = withK3sVersion(config, 'all', 'v1.32.2+k3s1');
    expect([all.k3sVersion, ...all.groups.map((g) => g.k3sVersion)]).toEqual(['v1.32.2+k3s1', 'v1.32.2+k3s1', 'v1.32.2+k3s1']);
    const some = withK3sVersion(config, ['nodes'], 'v1.32.2+k3s1');
    expect([some.k3sVersion, ...some.groups.map((g) => g.k3sVersion)]).toEqual(['v1.31.6+k3s1', 'v1.31.6+k3s1', 'v1.32.2+k3s1']);
    // The input is left as it was (rollback and dry runs compare against it).
    expect(config.groups.map((g) => g.k3sVersion)).toEqual(['v1.31.6+k3s1', 'v1.31.6+k3s1']);
  });

  it('withGroup adds or replaces a group, keeping the groups sorted by name', () => {
    expect(withGroup(config, group('big')).groups.map((g) => g.name)).toEqual(['big', 'control-plane', 'nodes']);
    const replaced = withGroup(config, { ...group('nodes'), count: 5 });
    expect(replaced.groups.map((g) => [g.name, g.count])).toEqual([
      ['control-plane', 1],
      ['nodes', 5],
    ]);
  });
});
