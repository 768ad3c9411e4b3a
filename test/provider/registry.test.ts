// The provider registry (src/provider/provider.ts) and the registry of k3sctl's kinds
// (src/resources/registry.ts): orders derived from the providers' dependencies, and the checks that
// keep a registry sound.
import { ProviderRegistry, type Provider } from '../../src/provider/provider';
import { providers } from '../../src/resources/registry';

const kind = (type: string, ...dependsOn: string[]): Provider => ({ type, dependsOn, undo: {} });

describe('a provider registry', () => {
  it('refuses two providers of one kind, a dependency no provider offers, and a dependency cycle', () => {
    expect(() => new ProviderRegistry([kind('A'), kind('A')])).toThrow('two providers for A');
    expect(() => new ProviderRegistry([kind('A', 'B')])).toThrow('A depends on B, which no provider offers');
    expect(() => new ProviderRegistry([kind('A', 'B'), kind('B', 'C'), kind('C', 'A')])).toThrow(
      'dependency cycle among A, B, C',
    );
  });

  it('creates dependencies first and deletes each kind as soon as its dependents are gone, in waves', () => {
    const r = new ProviderRegistry([kind('Rule', 'Listener', 'TG'), kind('Listener', 'LB'), kind('LB'), kind('TG')]);
    expect(r.creationWaves(['Rule', 'Listener', 'LB', 'TG'])).toEqual([['LB', 'TG'], ['Listener'], ['Rule']]);
    expect(r.deletionWaves(['Rule', 'Listener', 'LB', 'TG'])).toEqual([['Rule'], ['Listener', 'TG'], ['LB']]);
  });

  it('orders kinds through kinds left out of the list (a rule still goes before its load balancer)', () => {
    const r = new ProviderRegistry([kind('Rule', 'Listener'), kind('Listener', 'LB'), kind('LB')]);
    expect(r.deletionWaves(['LB', 'Rule'])).toEqual([['Rule'], ['LB']]);
    expect([...r.dependenciesOf('Rule')].sort()).toEqual(['LB', 'Listener']);
  });

  it("lists a cluster's tasks kind by kind in creation order; a kind with no cluster tasks adds none", () => {
    const contributing = (type: string, dependsOn: string[], keys: (cluster: string) => string[]): Provider => ({
      ...kind(type, ...dependsOn),
      clusterTasks: (view) => keys(view.name).map((key) => ({ key, type, name: key, find: async () => undefined, create: async () => ({}), id: () => key })),
    });
    const r = new ProviderRegistry([
      contributing('Group', ['Template'], (c) => [`${c}/group/a`, `${c}/group/b`]),
      contributing('Template', ['Role'], (c) => [`${c}/template`]),
      kind('Role'),
    ]);
    const view = { name: 'c1', region: 'r', vpcId: 'vpc', sshCidrs: [], apiCidrs: [], declaration: [], ingressSecurityGroupIds: [], groups: [], endpointTargetGroupArns: [] };
    expect(r.clusterTasks(view).map((t) => t.key)).toEqual(['c1/template', 'c1/group/a', 'c1/group/b']);
  });

  it('adds providers without changing the one it extends', () => {
    const base = new ProviderRegistry([kind('A')]);
    const more = base.with(kind('B', 'A'));
    expect(more.types.sort()).toEqual(['A', 'B']);
    expect(base.types).toEqual(['A']);
    expect(more.provider('B')?.dependsOn).toEqual(['A']);
  });
});

describe("k3sctl's registry", () => {
  it('has a provider with an undo for every kind a run journals', () => {
    for (const type of providers.types) {
      const undo = providers.undoHandler(type);
      expect({ type, undoes: Boolean(undo?.delete ?? undo?.restore) }).toEqual({ type, undoes: true });
    }
  });

  it("derives cluster delete's order: ingress traffic stops before the groups drain, groups and instances before what they use, roles after their profiles, the security group last", () => {
    const waves = providers.deletionWaves([
      'AWS::EC2::SecurityGroup',
      'AWS::IAM::Role',
      'AWS::IAM::InstanceProfile',
      'AWS::SSM::Parameter',
      'AWS::EC2::LaunchTemplate',
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::EC2::Instance',
    ], 'AWS::EC2::SecurityGroup');
    expect(waves).toEqual([
      ['AWS::EC2::Instance', 'AWS::ElasticLoadBalancingV2::ListenerRule'],
      ['AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment'],
      ['AWS::AutoScaling::AutoScalingGroup'],
      ['AWS::EC2::LaunchTemplate', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::IAM::InstanceProfile', 'AWS::SSM::Parameter'],
      ['AWS::IAM::Role'],
      ['AWS::EC2::SecurityGroup'],
    ]);
  });
});

describe('deletion order', () => {
  it('ignores the dependencies a kind only names at creation, and refuses one that is not a dependency', () => {
    const template: Provider = { ...kind('Template', 'Profile', 'Group'), createOnly: ['Profile'] };
    const r = new ProviderRegistry([template, kind('Instance', 'Template', 'Profile'), kind('Profile'), kind('Group')]);
    expect(r.creationWaves(['Template', 'Instance', 'Profile', 'Group'])).toEqual([['Group', 'Profile'], ['Template'], ['Instance']]);
    // The profile outlives the instances that use it, not the template that names it.
    expect(r.deletionWaves(['Template', 'Instance', 'Profile', 'Group'])).toEqual([['Instance'], ['Profile', 'Template'], ['Group']]);
    expect(r.deletedBefore('Profile', ['Template', 'Instance', 'Group'])).toEqual(['Instance']);
    expect(() => new ProviderRegistry([{ ...kind('A'), createOnly: ['B'] }, kind('B')])).toThrow('A: B is create-only but not a dependency');
  });

  it('deletes a kind before the kinds that outlive it, though they are created after it', () => {
    // A certificate's validation records are made from it, yet must stay while it exists.
    const certificate: Provider = { ...kind('Certificate'), outlivedBy: ['Record'] };
    const record: Provider = { ...kind('Record', 'Certificate', 'LB'), createOnly: ['Certificate'] };
    const r = new ProviderRegistry([certificate, record, kind('LB')]);
    expect(r.creationWaves(['Certificate', 'Record', 'LB'])).toEqual([['Certificate', 'LB'], ['Record']]);
    expect(r.deletionWaves(['Certificate', 'Record', 'LB'])).toEqual([['Certificate'], ['Record'], ['LB']]);
    expect(() => new ProviderRegistry([{ ...kind('A'), outlivedBy: ['B'] }])).toThrow('A is outlived by B, which no provider offers');
    // Outlived by a kind that must itself go first is a cycle of deletes.
    expect(() => new ProviderRegistry([{ ...kind('A'), outlivedBy: ['B'] }, kind('B', 'A')])).toThrow('dependency cycle among A, B');
  });

  it('deletes the anchor a workflow names after every other kind, related or not', () => {
    const r = new ProviderRegistry([kind('Anchor'), kind('User', 'Anchor'), kind('Role'), kind('Profile', 'Role')]);
    expect(r.deletionWaves(['Anchor', 'User', 'Role', 'Profile'], 'Anchor')).toEqual([['Profile', 'User'], ['Role'], ['Anchor']]);
    expect(r.deletedBefore('Anchor', ['Anchor', 'User', 'Role', 'Profile'], 'Anchor')).toEqual(['User', 'Role', 'Profile']);
    expect(r.deletedBefore('Role', ['Anchor', 'User', 'Role', 'Profile'], 'Anchor')).toEqual(['Profile']);
    // Without an anchor it goes as soon as what depends on it is gone.
    expect(r.deletionWaves(['Anchor', 'User', 'Role', 'Profile'])).toEqual([['Profile', 'User'], ['Anchor', 'Role']]);
  });
});
