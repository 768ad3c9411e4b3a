// The k3sctl.io/replacement tag as every reader of a group sees it: no tag is no replacement, a
// record reads back as written, and a tag k3sctl cannot read stops the command with the way out.
import { UserError } from '../../src/core/errors';
import {
  formatReplacementRecord,
  parseReplacementRecord,
  REPLACEMENT_TAG,
} from '../../src/resources/replacementRecord';
import { UndoIncompleteError } from '../../src/provider/provider';

const record = {
  run: 'run-1',
  since: '2026-01-01T00:00:00.000Z',
  desired: 3,
  min: 3,
  max: 3,
  suspended: ['AZRebalance'],
};

describe('the replacement record of a group', () => {
  it('is absent without the tag, and reads back as written', () => {
    expect(parseReplacementRecord(undefined, 'g')).toBeUndefined();
    expect(parseReplacementRecord(formatReplacementRecord(record), 'g')).toStrictEqual(record);
  });

  it.each([
    ['not JSON', '{"run":'],
    ['JSON of another shape', JSON.stringify({ ...record, desired: -1 })],
    ['a record without its capacity', JSON.stringify({ run: 'r', since: 's', suspended: [] })],
    ['JSON null', 'null'],
  ])('a tag holding %s is a user error naming the group, the tag and how to clear it', (_what, value) => {
    let thrown: unknown;
    try {
      parseReplacementRecord(value, 'k3sctl-demo-nodes');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as UserError).message).toBe(
      `Auto Scaling group k3sctl-demo-nodes has an unreadable ${REPLACEMENT_TAG} tag: ${value}`,
    );
    expect((thrown as UserError).suggestion).toBe(
      `set the group's capacity back by hand, then remove the tag (aws autoscaling delete-tags --tags ResourceId=k3sctl-demo-nodes,ResourceType=auto-scaling-group,Key=${REPLACEMENT_TAG})`,
    );
  });
});

describe('an undo that could not finish', () => {
  it('is reported under its own type (the JSON error names it) with what is left', () => {
    const error = new UndoIncompleteError('1 left', [
      { type: 'AWS::EC2::Instance', name: 'g/i-1', id: 'i-1' },
    ]);
    expect(error.name).toBe('UndoIncompleteError');
    expect(error.message).toBe('1 left');
    expect(error.remaining).toEqual([{ type: 'AWS::EC2::Instance', name: 'g/i-1', id: 'i-1' }]);
  });
});
