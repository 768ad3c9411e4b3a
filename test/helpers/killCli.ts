// A real SIGKILL of the CLI at a chosen point of its journal: the process dies without running another
// instruction, so the account holds exactly the writes that happened.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN } from './cli';

export interface JournalLine {
  seq: number;
  status: string;
  action: string;
  type: string;
}

/** The journal's entries, folded by seq (the last status line of each wins). */
export function journalEntries(h: string): JournalLine[] {
  const dir = path.join(h, 'runs');
  if (!fs.existsSync(dir)) return [];
  const out = new Map<string, JournalLine>();
  for (const f of fs.readdirSync(dir)) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      try {
        const e = JSON.parse(line) as JournalLine & { kind: string };
        if (e.kind === 'entry') out.set(`${f}/${e.seq}`, e);
      } catch {
        // a torn last line
      }
    }
  }
  return [...out.values()];
}

/** Runs the CLI and SIGKILLs it once `when(journal entries)` holds (checked every 5 ms); true when it was killed. */
export function runAndKill(
  args: string[],
  h: string,
  when: (e: JournalLine[]) => boolean,
  env: Record<string, string> = {},
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, K3SCTL_HOME: h, CI: 'true', ...env },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && when(journalEntries(h))) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', () => {
      clearInterval(timer);
      resolve(killed);
    });
  });
}

/** Killed once the surge of the first group was asked for (the 4th update of a group recorded as done). */
export const surged = (e: JournalLine[]): boolean =>
  e.filter(
    (x) => x.type === 'AWS::AutoScaling::AutoScalingGroup' && x.action === 'update' && x.status === 'done',
  ).length >= 4;
