import type { Clock, TimerHandle } from '../../../sip-gateway/src/transaction/clock';

/** A Clock whose time moves only when a test calls {@link ManualClock.advance}. */
export class ManualClock implements Clock {
  private now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { atMs: number; fn: () => void }>();

  nowMs(): number {
    return this.now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.now + delayMs, fn });
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.atMs <= target).sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].atMs;
      due[1].fn();
    }
    this.now = target;
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
