import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ProgressEvent } from '../../src/core/events';
import { createProgressRenderer } from '../../src/ui/progress';

const SG = 'AWS::EC2::SecurityGroup';

/** A sequence of events like a failing run produces. */
const events: ProgressEvent[] = [
  { kind: 'plan', changes: [{ action: 'create', type: SG, name: 'k3sctl-demo' }] },
  { kind: 'step-start', key: 'sg', title: `${SG} k3sctl-demo` },
  { kind: 'step-done', key: 'sg', title: `${SG} k3sctl-demo`, action: 'create', id: 'sg-0123' },
  { kind: 'step-start', key: 'role', title: 'AWS::IAM::Role k3sctl-demo-node' },
  {
    kind: 'step-done',
    key: 'role',
    title: 'AWS::IAM::Role k3sctl-demo-node',
    action: 'noop',
    id: 'k3sctl-demo-node',
  },
  { kind: 'step-start', key: 'step-1', title: 'wait for instances' },
  { kind: 'step-update', key: 'step-1', message: 'waiting for 3 instances InService; seen: 1 of 3' },
  { kind: 'step-update', key: 'step-1', message: 'waiting for 3 instances InService; seen: 1 of 3' },
  { kind: 'step-update', key: 'step-1', message: 'waiting for 3 instances InService; seen: 2 of 3' },
  { kind: 'log', level: 'warn', message: 'instance i-1 is slow to boot' },
  { kind: 'log', level: 'debug', message: 'DescribeInstances x3' },
  { kind: 'step-fail', key: 'step-1', title: 'wait for instances', error: 'timed out after 600s' },
  {
    kind: 'step-skip',
    key: 'asg',
    title: 'AWS::AutoScaling::AutoScalingGroup k3sctl-demo',
    reason: 'stopped after another task failed',
  },
  { kind: 'rollback-start', entries: 2 },
  { kind: 'rollback-step', title: `delete ${SG} k3sctl-demo (sg-0123)`, ok: true },
  {
    kind: 'rollback-step',
    title: 'delete AWS::IAM::Role k3sctl-demo-node',
    ok: false,
    error: 'AccessDenied: no',
  },
];

function render(options: { json: boolean; verbose: boolean; tty: boolean }): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => (text += chunk.toString()));
  const renderer = createProgressRenderer({ ...options, stream });
  for (const e of events) renderer.emit(e);
  return Promise.resolve(renderer.close()).then(() => text);
}

describe('progress renderer', () => {
  it('writes plain lines when stderr is not a terminal', async () => {
    expect((await render({ json: false, verbose: false, tty: false })).split('\n')).toEqual([
      `[+] created ${SG} k3sctl-demo (sg-0123)`,
      '[>] wait for instances',
      '[~] waiting for 3 instances InService; seen: 1 of 3',
      '[~] waiting for 3 instances InService; seen: 2 of 3',
      '[!] warning: instance i-1 is slow to boot',
      '[x] failed: wait for instances: timed out after 600s',
      '[/] skipped AWS::AutoScaling::AutoScalingGroup k3sctl-demo: stopped after another task failed',
      '[!] rolling back 2 changes',
      `[<] rolled back: delete ${SG} k3sctl-demo (sg-0123)`,
      '[x] rollback failed: delete AWS::IAM::Role k3sctl-demo-node: AccessDenied: no',
      '',
    ]);
  });

  it('shows unchanged resources, task starts, the plan summary and debug logs with --verbose', async () => {
    const lines = (await render({ json: false, verbose: true, tty: false })).split('\n');
    expect(lines).toContain('[=] plan: 1 to create, 0 to update, 0 to delete, 0 unchanged');
    expect(lines).toContain(`[>] ${SG} k3sctl-demo`);
    expect(lines).toContain('[=] unchanged AWS::IAM::Role k3sctl-demo-node (k3sctl-demo-node)');
    expect(lines).toContain('[.] DescribeInstances x3');
  });

  it('writes only warnings and errors with --json', async () => {
    expect((await render({ json: true, verbose: true, tty: true })).split('\n')).toEqual([
      '[!] warning: instance i-1 is slow to boot',
      '[x] failed: wait for instances: timed out after 600s',
      '[x] rollback failed: delete AWS::IAM::Role k3sctl-demo-node: AccessDenied: no',
      '',
    ]);
  });

  it.each([0, 5])(
    'renders listr2 tasks on stderr on a terminal, with the rollback as its own group (events %ims apart)',
    (delay) => {
      const child = spawnSync(process.execPath, [path.join(__dirname, 'fixtures/renderTty.js')], {
        input: JSON.stringify(events),
        encoding: 'utf8',
        env: { ...process.env, FORCE_COLOR: '0', RENDER_DELAY_MS: String(delay) },
        timeout: 30_000,
      });
      expect(child.status).toBe(0);
      // stdout holds the result only, once, without extra lines.
      expect(child.stdout).toBe('result: ok\nstdout untouched\n');
      // eslint-disable-next-line no-control-regex
      const text = child.stderr.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
      expect(text).not.toContain('plain output follows');
      // a stray stderr line is printed once (held back while listr2 draws, replayed when it ends)
      expect(text.split('Error: shown after the frame\n')).toHaveLength(2);
      // listr2's final frame: finished tasks with their outcome, the failed step with its error, the group.
      expect(text).toContain(`created ${SG} k3sctl-demo (sg-0123)`);
      expect(text).toContain('unchanged AWS::IAM::Role k3sctl-demo-node');
      expect(text).toContain('failed: wait for instances');
      expect(text).toContain('timed out after 600s');
      expect(text).toContain('rolling back 2 changes');
      expect(text).toContain(`delete ${SG} k3sctl-demo (sg-0123)`);
      expect(text).toContain('AccessDenied: no');
      expect(text).toContain('warning: instance i-1 is slow to boot');
      // every task is rendered once in the final frame (no task is run twice)
      const final = text.slice(text.lastIndexOf('created AWS::EC2::SecurityGroup'));
      expect(final.split('delete AWS::EC2::SecurityGroup k3sctl-demo (sg-0123)').length).toBe(2);
    },
  );

  it('falls back to plain lines when listr2 cannot render', async () => {
    // Under jest, listr2's renderer cannot load its ESM dependencies: the renderer must still tell everything.
    const text = await render({ json: false, verbose: false, tty: true });
    expect(text).toContain('plain output follows');
    expect(text).toContain(`[+] created ${SG} k3sctl-demo (sg-0123)`);
    expect(text).toContain('[x] rollback failed: delete AWS::IAM::Role k3sctl-demo-node: AccessDenied: no');
  });
});
