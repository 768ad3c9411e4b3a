// A discrete-event virtual clock. `sleep` registers a timer; once every runnable task has yielded
// (two setImmediate turns), time jumps to the earliest timer and wakes it. Concurrent sleepers
// therefore overlap in virtual time exactly as they would in real time, which is what makes the
// simulated wall time of a parallel workflow comparable with the critical path of the latency model.
import type { Clock } from '../core/clock';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private seq = 0;
  private advancing = false;
  /** Called with the new time whenever time moves forward. */
  onAdvance?: (now: number) => void;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: this.current + Math.max(0, ms), seq: this.seq++, resolve });
      this.scheduleAdvance();
    });
  }

  /** Moves time forward by `ms` at once (tests), waking every timer due on the way. */
  advance(ms: number): void {
    this.setTime(this.current + ms);
    const due = this.timers.filter((t) => t.at <= this.current);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due.sort(byTime)) t.resolve();
  }

  /** Number of sleepers waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  private setTime(t: number): void {
    if (t > this.current) {
      this.current = t;
      this.onAdvance?.(t);
    }
  }

  private scheduleAdvance(): void {
    if (this.advancing) return;
    this.advancing = true;
    setImmediate(() =>
      setImmediate(() => {
        this.advancing = false;
        this.fireEarliest();
      }),
    );
  }

  private fireEarliest(): void {
    if (this.timers.length === 0) return;
    this.timers.sort(byTime);
    const at = this.timers[0].at;
    const due = this.timers.filter((t) => t.at <= at);
    this.timers = this.timers.slice(due.length);
    this.setTime(at);
    for (const t of due) t.resolve();
    if (this.timers.length > 0) this.scheduleAdvance();
  }
}

function byTime(a: Timer, b: Timer): number {
  return a.at - b.at || a.seq - b.seq;
}
