// The one renderer of typed diffs: each form gives exactly the line plans, --json `details` and
// journals showed before diffs were typed.
import { renderChange, renderChanges, tagChanges, type FieldChange } from '../../src/provider/fieldChange';

describe('renderChange', () => {
  it.each<[FieldChange, string]>([
    [{ field: 'capacity', from: '1/1/1', to: '3/3/3' }, 'capacity: 1/1/1 -> 3/3/3'],
    [{ field: 'launchTemplateVersion', from: '-', to: 'new' }, 'launchTemplateVersion: - -> new'],
    [{ field: 'targetGroups', from: '1', to: '2', note: '+k3s-a-ing -k3s-b' }, 'targetGroups: 1 -> 2 (+k3s-a-ing -k3s-b)'],
    [{ field: 'sourceIps', from: '(any)', to: '10.0.0.0/8' }, 'sourceIps: (any) -> 10.0.0.0/8'],
    [{ field: 'values', from: '', to: '1.2.3.4' }, 'values:  -> 1.2.3.4'],
    [{ field: 'lifecycle hook k3sctl-drain', status: 'missing' }, 'lifecycle hook k3sctl-drain: missing'],
    [{ field: 'inline policy nodes', status: 'changed' }, 'inline policy nodes: changed'],
    [{ field: 'userData', changed: true }, 'userData changed'],
    [{ field: 'value', changed: true }, 'value changed'],
    [{ field: 'ingress', add: 'tcp:22-22:203.0.113.0/24' }, 'add ingress tcp:22-22:203.0.113.0/24'],
    [{ field: 'ingress', remove: 'tcp:6443-6443:0.0.0.0/0' }, 'remove ingress tcp:6443-6443:0.0.0.0/0'],
    [{ field: 'managed policy', attach: 'arn:aws:iam::aws:policy/A' }, 'attach arn:aws:iam::aws:policy/A'],
    [{ field: 'managed policy', detach: 'arn:aws:iam::aws:policy/B' }, 'detach arn:aws:iam::aws:policy/B'],
    [
      { field: 'version', pending: 'new version (depends on resources still to be created)' },
      'new version (depends on resources still to be created)',
    ],
  ])('%j renders as %s', (change, line) => {
    expect(renderChange(change)).toBe(line);
  });

  it('a replacement renders like any change (the engine, not the line, acts on it)', () => {
    expect(renderChange({ field: 'scheme', from: 'internal', to: 'internet-facing', replace: true })).toBe(
      'scheme: internal -> internet-facing',
    );
  });

  it('renders a diff in order', () => {
    expect(renderChanges([{ field: 'spot', from: 'false', to: 'true' }, { field: 'userData', changed: true }])).toEqual([
      'spot: false -> true',
      'userData changed',
    ]);
  });
});

describe('tagChanges', () => {
  it('lists the desired tags that are missing (shown as -) or differ, in desired order', () => {
    const changes = tagChanges(
      [
        { Key: 'Name', Value: 'k3sctl-a' },
        { Key: 'k3sctl.io/cluster', Value: 'a' },
        { Key: 'k3sctl.io/role', Value: 'node' },
      ],
      { Name: 'old', 'k3sctl.io/cluster': 'a' },
    );
    expect(changes).toEqual([
      { field: 'tag Name', from: 'old', to: 'k3sctl-a' },
      { field: 'tag k3sctl.io/role', from: '-', to: 'node' },
    ]);
    expect(renderChanges(changes)).toEqual(['tag Name: old -> k3sctl-a', 'tag k3sctl.io/role: - -> node']);
  });
});
