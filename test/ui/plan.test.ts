import { renderPlan } from '../../src/ui/plan';
import { renderTable } from '../../src/ui/table';

describe('renderPlan', () => {
  it('lists creates, updates with their fields, deletes, and counts', () => {
    expect(
      renderPlan([
        { action: 'create', type: 'AWS::EC2::SecurityGroup', name: 'k3sctl-demo' },
        {
          action: 'update',
          type: 'AWS::AutoScaling::AutoScalingGroup',
          name: 'k3sctl-demo-nodes',
          id: 'k3sctl-demo-nodes',
          details: ['desiredCapacity: 3 -> 5', 'maxSize: 3 -> 5'],
        },
        { action: 'noop', type: 'AWS::IAM::Role', name: 'k3sctl-demo-node' },
        { action: 'delete', type: 'AWS::SSM::Parameter', name: '/k3sctl/clusters/demo/old' },
      ]),
    ).toBe(
      [
        '+ create AWS::EC2::SecurityGroup             k3sctl-demo',
        '~ update AWS::AutoScaling::AutoScalingGroup  k3sctl-demo-nodes (k3sctl-demo-nodes)',
        '      desiredCapacity: 3 -> 5',
        '      maxSize: 3 -> 5',
        '- delete AWS::SSM::Parameter                 /k3sctl/clusters/demo/old',
        '',
        'Plan: 1 to create, 1 to update, 1 to delete, 1 unchanged.',
      ].join('\n'),
    );
  });

  it('lists unchanged resources on request and says when nothing changes', () => {
    const noop = [
      { action: 'noop' as const, type: 'AWS::IAM::Role', name: 'a' },
      { action: 'noop' as const, type: 'AWS::IAM::Role', name: 'b' },
    ];
    expect(renderPlan(noop)).toBe('No changes: 2 resources up to date.');
    expect(renderPlan(noop, { showNoop: true }).split('\n')).toEqual([
      '= noop   AWS::IAM::Role  a',
      '= noop   AWS::IAM::Role  b',
      'No changes: 2 resources up to date.',
    ]);
    expect(renderPlan([])).toBe('No changes: 0 resources up to date.');
  });
});

describe('renderTable', () => {
  it('aligns columns to the widest cell, without trailing spaces', () => {
    expect(
      renderTable(
        ['NAME', 'INSTANCES', 'STATUS'],
        [
          ['demo', 3, 'running'],
          ['a-much-longer-name', 12, undefined],
        ],
      ),
    ).toBe(
      [
        'NAME                 INSTANCES   STATUS',
        'demo                 3           running',
        'a-much-longer-name   12          -',
      ].join('\n'),
    );
  });

  it('right-aligns on request and ignores colour codes when measuring', () => {
    expect(
      renderTable(
        ['GROUP', 'COUNT'],
        [
          ['\u001b[32mcp\u001b[0m', 3],
          ['nodes', 10],
        ],
        { align: ['left', 'right'] },
      ).split('\n'),
    ).toEqual(['GROUP   COUNT', '\u001b[32mcp\u001b[0m          3', 'nodes      10']);
    expect(renderTable(['A', 'B'], [])).toBe('A   B');
  });
});
