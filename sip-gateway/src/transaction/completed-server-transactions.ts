/**
 * Completed non-INVITE server transactions over unreliable transports, reduced to what RFC 3261 §17.2.2 still
 * asks of them until Timer J: re-send the final response (same bytes, same destination) to every retransmission
 * of the request, then end.
 *
 * @remarks
 * A registrar holds 64·T1 = 32 s of these (~128,000 at 4,000 REGISTER/s), and major-GC marking costs in
 * proportion to live objects. The layer therefore drops each one's FSM, context, state, timers and TU object
 * once it is Completed and keeps one {@link CompletedServerTransaction} per transaction (with its key and the
 * encoded response it already had). Timer J is the same constant for all of them, so they expire in the order
 * they were added: a FIFO with one clock timer for its head replaces a timer per transaction.
 */
import type { Clock, TimerHandle } from './clock';
import type { TransactionStateName } from './types';

/**
 * One completed transaction: its matching key and the encoded final response re-sent on each retransmission. It is
 * itself the encoded response (bytes, target) and the transaction reference handed to the layer's `sendEncoded`,
 * so a re-send allocates nothing.
 */
export class CompletedServerTransaction<T> {
  /** Set when Timer J fired, a transport error ended it (§17.2.4), or the layer closed. */
  ended = false;

  constructor(
    readonly id: number,
    readonly key: string,
    readonly bytes: Uint8Array,
    readonly target: T,
  ) {}

  /** The RFC state a TU still holding the transaction sees. */
  get state(): TransactionStateName {
    return this.ended ? 'Terminated' : 'Completed';
  }
}

/** The FIFO of completed transactions, keyed for §17.2.3 matching, ending each at its Timer J. */
export class CompletedServerTransactions<T> {
  private readonly byKey = new Map<string, CompletedServerTransaction<T>>();
  /** Entries in the order they were added, from `head`; an ended entry stays until the head passes it. */
  private entries: Array<CompletedServerTransaction<T> | undefined> = [];
  /** Expiry of each entry, parallel to `entries`: numbers only, so V8 stores them unboxed (no HeapNumber each). */
  private expiries: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  /**
   * @param slotMs when positive, the timer fires at the next multiple of this many ms after the head's expiry, so
   *   one firing ends every entry of a slot (they end up to this much late, never early); 0 ends each one exactly.
   * @param onEnded called for each entry Timer J ends (not for {@link end} or {@link clear}); must not throw.
   */
  constructor(
    private readonly clock: Clock,
    private readonly slotMs: number,
    private readonly onEnded: (entry: CompletedServerTransaction<T>) => void,
  ) {}

  /** Live entries. */
  get size(): number {
    return this.byKey.size;
  }

  get(key: string): CompletedServerTransaction<T> | undefined {
    return this.byKey.get(key);
  }

  /** Adds an entry that ends `timerJMs` from now. */
  add(entry: CompletedServerTransaction<T>, timerJMs: number): void {
    this.byKey.set(entry.key, entry);
    this.entries.push(entry);
    this.expiries.push(this.now() + timerJMs);
    if (this.timer === undefined) this.schedule();
  }

  /** Ends an entry before its Timer J (§17.2.4 transport error): a later request with its key is new. */
  end(entry: CompletedServerTransaction<T>): void {
    if (entry.ended) return;
    entry.ended = true;
    if (this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
  }

  /** Ends every entry without calling `onEnded` and stops the timer. */
  clear(): void {
    for (const entry of this.byKey.values()) entry.ended = true;
    this.byKey.clear();
    this.entries = [];
    this.expiries = [];
    this.head = 0;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /**
   * Expiries are on the clock's monotonic time when it has one: the gateway's `nowMs` is the wall clock (receipt
   * times are wall times, GEN-2), and a wall clock stepped back would hold every entry (and grow the FIFO) for the
   * length of the step, or stepped forward end them early.
   */
  private now(): number {
    return this.clock.monotonicMs?.() ?? this.clock.nowMs();
  }

  private schedule(): void {
    const head = this.head;
    if (head >= this.entries.length) return;
    const nowMs = this.now();
    const expiryMs = this.expiries[head]!;
    const dueMs = this.slotMs > 0 ? Math.ceil(expiryMs / this.slotMs) * this.slotMs : expiryMs;
    this.timer = this.clock.setTimer(Math.max(0, dueMs - nowMs), () => this.onTimer());
  }

  private onTimer(): void {
    this.timer = undefined;
    const nowMs = this.now();
    const entries = this.entries;
    let head = this.head;
    while (head < entries.length && this.expiries[head]! <= nowMs) {
      const entry = entries[head]!;
      entries[head] = undefined;
      head += 1;
      if (entry.ended) continue;
      // §17.2.2: Timer J fired in Completed: the transaction is Terminated and a new request with its key is new.
      this.end(entry);
      this.onEnded(entry);
    }
    this.head = head;
    // Drop the consumed prefix once it is half the arrays (amortized O(1) per entry).
    if (head > 1024 && head * 2 > entries.length) {
      this.entries = entries.slice(head);
      this.expiries = this.expiries.slice(head);
      this.head = 0;
    } else if (head === entries.length) {
      entries.length = 0;
      this.expiries.length = 0;
      this.head = 0;
    }
    this.schedule();
  }
}
