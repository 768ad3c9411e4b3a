// Every instance-side script (and every test stub) must be shellcheck-clean, following sourced
// files with -x.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
const list = (dir: string) => readdirSync(path.join(REPO, dir)).map((f) => path.join(dir, f));
const scripts = [...list('userdata/bin'), ...list('userdata/lib')].sort();
const testScripts = [...list('test/userdata/stubs'), 'test/userdata/bats/helpers.bash', 'test/userdata/bats/moto.bash'].sort();
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

function shellcheck(script: string): void {
  const r = spawnSync('shellcheck', ['-x', '--severity=style', script], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`shellcheck -x ${script} failed:\n${r.stdout}${r.stderr}`);
}

describe('shellcheck', () => {
  test('finds the scripts', () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        'userdata/bin/k3sctl-bootstrap',
        'userdata/bin/k3sctl-leave-handler',
        'userdata/lib/common.sh',
      ]),
    );
  });

  if (!hasShellcheck) {
    test.skip('shellcheck is not installed (apt-get install shellcheck; .ci/run installs it): lint skipped', () =>
      undefined);
    return;
  }

  test.each(scripts)('%s is clean', shellcheck);
  test.each(testScripts)('test stub %s is clean', shellcheck);
});
