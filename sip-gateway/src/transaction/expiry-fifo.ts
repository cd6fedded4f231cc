/**
 * A queue of timers that all have the same delay, so they fall due in the order they were set: one clock timer
 * for the head replaces one per entry, and an entry costs two array slots and an unboxed number instead of a timer
 * object. A stopped entry is not removed; its owner ignores it when it falls due (see `onDue`).
 */
import type { Clock, TimerHandle } from './clock';

export class ExpiryFifo<V> {
  /** Values in the order they were added, from `head`; slots before `head` are consumed. */
  private values: Array<V | undefined> = [];
  /** Per value, a number its owner gives (a transaction id): in a number-only array, so stored unboxed. */
  private tags: number[] = [];
  /** Due time of each value, on the clock's monotonic time (see {@link now}); unboxed likewise. */
  private dues: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  /** True while `fire` runs: an entry pushed from `onDue` is scheduled by `fire`, not by `push`. */
  private firing = false;

  /**
   * @param delayMs the delay of every entry.
   * @param slotMs when positive, the clock timer fires at the next multiple of this many ms after the head's due
   *   time, so one firing takes every entry of a slot (up to this much late, never early); 0 fires each exactly.
   * @param onDue called for each entry that falls due, in order. One that throws does not stop the others or the
   *   queue; the first error is rethrown once the queue is consistent (out of the clock's timer callback).
   */
  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly slotMs: number,
    private readonly onDue: (value: V, tag: number) => void,
  ) {}

  /** Entries not yet due (stopped ones included). */
  get length(): number {
    return this.values.length - this.head;
  }

  /** Adds an entry due `delayMs` from now. */
  push(value: V, tag: number): void {
    this.values.push(value);
    this.tags.push(tag);
    this.dues.push(this.now() + this.delayMs);
    if (this.timer === undefined && !this.firing) this.schedule();
  }

  /** Drops every entry and stops the clock timer. */
  clear(): void {
    this.values = [];
    this.tags = [];
    this.dues = [];
    this.head = 0;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /**
   * Due times are on the clock's monotonic time when it has one: the gateway's `nowMs` is the wall clock (receipt
   * times are wall times, GEN-2), and a wall clock stepped back would hold every entry (and grow the queue) for the
   * length of the step, or stepped forward fire them early.
   */
  private now(): number {
    return this.clock.monotonicMs?.() ?? this.clock.nowMs();
  }

  private schedule(): void {
    if (this.head >= this.values.length) return;
    const dueMs = this.dues[this.head]!;
    const slotEndMs = this.slotMs > 0 ? Math.ceil(dueMs / this.slotMs) * this.slotMs : dueMs;
    this.timer = this.clock.setTimer(Math.max(0, slotEndMs - this.now()), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    const nowMs = this.now();
    const { values, tags, dues } = this;
    let head = this.head;
    let failure: { error: unknown } | undefined;
    this.firing = true;
    while (head < values.length && dues[head]! <= nowMs) {
      const value = values[head]!;
      values[head] = undefined;
      head += 1;
      try {
        this.onDue(value, tags[head - 1]!);
      } catch (error) {
        failure ??= { error };
      }
      // onDue may have cleared the queue (close from a callback).
      if (values !== this.values) break;
    }
    this.firing = false;
    if (values === this.values) this.compact(head);
    if (failure !== undefined) throw failure.error;
  }

  /** Records the new head, drops consumed slots and sets the clock timer for the next entry. */
  private compact(head: number): void {
    const { values, tags, dues } = this;
    this.head = head;
    if (head === values.length) {
      values.length = 0;
      tags.length = 0;
      dues.length = 0;
      this.head = 0;
    } else if (head > 1024 && head * 2 > values.length) {
      // Drop the consumed prefix once it is half the arrays (amortized O(1) per entry).
      this.values = values.slice(head);
      this.tags = tags.slice(head);
      this.dues = dues.slice(head);
      this.head = 0;
    }
    this.schedule();
  }
}
