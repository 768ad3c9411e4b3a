// Persistence of the CLI's sandbox account under $K3SCTL_HOME/sandbox/, with a lock so that a
// sequence of commands (create, describe, recycle, delete) sees one account and concurrent
// invocations take turns.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from './sandbox';
import type { SandboxState } from './account';
import type { FaultRule } from './faults';

const LOCK_WAIT_MS = 120_000;

export class SandboxStore {
  private lockFd: number | undefined;

  constructor(readonly dir: string) {}

  get statePath(): string {
    return path.join(this.dir, 'state.json');
  }

  private get lockPath(): string {
    return path.join(this.dir, 'lock');
  }

  /** Takes the lock (waiting for another invocation to finish) and loads the account. */
  async open(options: { faults?: FaultRule[]; seed?: number } = {}): Promise<Sandbox> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await this.lock();
    let state: SandboxState | undefined;
    if (fs.existsSync(this.statePath)) state = JSON.parse(fs.readFileSync(this.statePath, 'utf8')) as SandboxState;
    return new Sandbox({ state, faults: options.faults, seed: options.seed });
  }

  /** Writes the account atomically (`behavior`: the one to keep, when this invocation overrides it). */
  save(sandbox: Sandbox, behavior: SandboxState['behavior'] = sandbox.state.behavior): void {
    sandbox.state.now = sandbox.now();
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ ...sandbox.state, behavior }), { mode: 0o600 });
    fs.renameSync(tmp, this.statePath);
  }

  release(): void {
    if (this.lockFd !== undefined) {
      fs.closeSync(this.lockFd);
      this.lockFd = undefined;
      fs.rmSync(this.lockPath, { force: true });
    }
  }

  reset(): void {
    fs.rmSync(this.statePath, { force: true });
  }

  private async lock(): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        this.lockFd = fs.openSync(this.lockPath, 'wx', 0o600);
        fs.writeSync(this.lockFd, String(process.pid));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (this.holderIsGone()) {
          fs.rmSync(this.lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new Error(`the sandbox at ${this.dir} is locked by another k3sctl process (see ${this.lockPath})`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private holderIsGone(): boolean {
    try {
      const pid = Number(fs.readFileSync(this.lockPath, 'utf8'));
      if (!pid) return false;
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}
