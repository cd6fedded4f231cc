/**
 * The real-time {@link Clock} the transaction layer runs on outside tests: the gateway's and the sweep's
 * SIP client channel. It lives beside the sockets because the transaction layer itself is pure.
 */
import type { Clock, TimerHandle } from '../transaction/clock';

/** A real-time {@link Clock} whose pending timers can all be cancelled on close. */
export class SystemClock implements Clock {
  private readonly pending = new Set<NodeJS.Timeout>();

  nowMs(): number {
    return Date.now();
  }

  /** Unaffected by wall-clock steps (timers run on the same monotonic clock). */
  monotonicMs(): number {
    return performance.now();
  }

  setTimer(delayMs: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, delayMs);
    this.pending.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
    this.pending.delete(handle as NodeJS.Timeout);
  }

  /** Cancels every pending timer. */
  clearAll(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}
