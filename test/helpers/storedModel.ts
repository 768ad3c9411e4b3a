// Stored cluster models for tests: a group and a cluster as `cluster create` would store them, with
// only what a test cares about given.
import type { StoredClusterConfig, StoredGroup } from '../../src/model/cluster';

const K3S = 'v1.31.6+k3s1';

/** A stored group: a control plane when named `control-plane`, else a node group; one t3.medium. */
export function storedGroup(name: string, fields: Partial<StoredGroup> = {}): StoredGroup {
  return {
    name,
    role: name === 'control-plane' ? 'control-plane' : 'node',
    count: 1,
    instanceType: 't3.medium',
    subnetIds: [],
    imageId: 'ami-1',
    rootDeviceName: '/dev/xvda',
    k3sVersion: K3S,
    k3sArgs: [],
    labels: {},
    taints: [],
    spot: false,
    rootVolumeSize: 20,
    rootVolumeType: 'gp3',
    ...fields,
  };
}

/** A stored cluster `demo` in us-east-1 with `groups`. */
export function storedCluster(groups: StoredGroup[], fields: Partial<StoredClusterConfig> = {}): StoredClusterConfig {
  return {
    version: 2,
    name: 'demo',
    region: 'us-east-1',
    vpcId: 'vpc-1',
    subnetIds: [],
    k3sVersion: K3S,
    sshCidrs: [],
    apiCidrs: [],
    tlsSans: [],
    groups,
    ...fields,
  };
}
