/**
 * A deterministic {@link Clock} for tests: time moves only when the test advances it, and due timers fire in
 * due-time order (ties in the order they were set).
 */
import type { Clock } from '../../sip-gateway/src/transaction/clock';

interface ScheduledTimer {
  readonly id: number;
  readonly dueMs: number;
  /** Cleared on clearTimer, so a cancelled timer holds nothing alive (like Node's clearTimeout). */
  fn: (() => void) | undefined;
}

/** A manually driven clock with a binary-heap timer queue (100k pending timers stay cheap). */
export class FakeClock implements Clock {
  private currentMs: number;
  private nextId = 1;
  private readonly heap: ScheduledTimer[] = [];
  private readonly active = new Map<number, ScheduledTimer>();

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(delayMs: number, fn: () => void): number {
    const timer: ScheduledTimer = { id: this.nextId++, dueMs: this.currentMs + Math.max(0, delayMs), fn };
    this.active.set(timer.id, timer);
    this.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    const timer = this.active.get(handle as number);
    if (timer === undefined) return;
    timer.fn = undefined;
    this.active.delete(timer.id);
  }

  /** Timers set and not yet fired or cleared. */
  pendingTimerCount(): number {
    return this.active.size;
  }

  /** Due time of the next live timer, or undefined when none is pending. */
  nextDueMs(): number | undefined {
    this.dropCleared();
    return this.heap[0]?.dueMs;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, at its due time. */
  advance(ms: number): void {
    const endMs = this.currentMs + ms;
    for (;;) {
      this.dropCleared();
      const next = this.heap[0];
      if (next === undefined || next.dueMs > endMs) break;
      this.pop();
      this.active.delete(next.id);
      this.currentMs = next.dueMs;
      next.fn?.();
    }
    this.currentMs = endMs;
  }

  /** Fires timers until none is pending, or throws after `maxTimers` firings (a runaway loop). */
  runAll(maxTimers = 10_000_000): void {
    let fired = 0;
    for (let due = this.nextDueMs(); due !== undefined; due = this.nextDueMs()) {
      if (++fired > maxTimers) throw new Error(`FakeClock.runAll: more than ${maxTimers} timers fired`);
      this.advance(due - this.currentMs);
    }
  }

  private dropCleared(): void {
    while (this.heap.length > 0 && !this.active.has(this.heap[0]!.id)) this.pop();
  }

  private before(a: ScheduledTimer, b: ScheduledTimer): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.id < b.id);
  }

  private push(timer: ScheduledTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
