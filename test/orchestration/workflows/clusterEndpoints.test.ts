// Sandbox integration: groups made after a nodeport endpoint exists (cluster create of a new group,
// nodegroup add, controlplane add) attach the endpoint's service target group when they are created,
// and re-running cluster create keeps the attachment (zero writes) instead of detaching it.
import { buildClusterSpec, buildGroupSpec } from '../../../src/config/cluster';
import { buildEndpointSpec } from '../../../src/config/ingress';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { describeAsg } from '../../helpers/asgFixture';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, next, ZONE } from './endpointFixture';

afterAll(() => removeTestHomes());

describe('nodeport endpoints and groups made later', () => {
  it('attaches the service target group to new groups at creation; re-runs keep it', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const spec = buildClusterSpec({ name: 'np', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    await clusterCreate(next(sb), spec, { wait: false });
    await endpointCreate(
      next(sb),
      buildEndpointSpec({ service: 'api', zone: ZONE, alb: 'shared', clusters: ['np'], mode: 'nodeport', port: 30080, healthPath: '/ping' }),
    );
    const tg = (await findTargetGroupByName(next(sb).clients, 'k3s-svc-api'))!;
    expect((await describeAsg(next(sb).clients, 'k3sctl-np-nodes')).TargetGroupARNs).toEqual([tg.arn]);

    // The attachment endpoint create made is part of what cluster create converges to.
    const again = await clusterCreate(next(sb), spec, { wait: false });
    expect(again.apiCalls.write).toBe(0);
    expect((await describeAsg(next(sb).clients, 'k3sctl-np-nodes')).TargetGroupARNs).toEqual([tg.arn]);

    const added = await groupAdd(next(sb), 'np', buildGroupSpec({ name: 'later', role: 'node', count: 1 }), { wait: false });
    expect(added.changes.find((c) => c.name === 'k3sctl-np-later' && c.type === 'AWS::AutoScaling::AutoScalingGroup')?.action).toBe('create');
    expect((await describeAsg(next(sb).clients, 'k3sctl-np-later')).TargetGroupARNs).toEqual([tg.arn]);
    await groupAdd(next(sb), 'np', buildGroupSpec({ name: 'cp-later', role: 'control-plane', count: 1 }), { wait: false });
    expect((await describeAsg(next(sb).clients, 'k3sctl-np-cp-later')).TargetGroupARNs).toEqual([tg.arn]);

    // A group new to the cluster's file: created with the target group too.
    const wider = { ...spec, groups: [...spec.groups, buildGroupSpec({ name: 'extra', role: 'node', count: 1 }, { k3sVersion: spec.k3sVersion })] };
    await clusterCreate(next(sb), wider, { wait: false });
    expect((await describeAsg(next(sb).clients, 'k3sctl-np-extra')).TargetGroupARNs).toEqual([tg.arn]);
    expect((await clusterCreate(next(sb), wider, { wait: false })).apiCalls.write).toBe(0);
  });
});
