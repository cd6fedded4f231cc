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
 * they were added: an {@link ExpiryFifo} with one clock timer replaces a timer per transaction.
 */
import type { Clock } from './clock';
import { ExpiryFifo } from './expiry-fifo';
import type { TransactionStateName } from './types';

/**
 * One completed transaction: its matching key and the encoded final response re-sent on each retransmission. It is
 * itself the encoded response (bytes, target) and the transaction reference handed to the layer's `sendEncoded`,
 * so a re-send allocates nothing but the view of its bytes.
 *
 * The bytes are kept as the memory they are in (buffer, offset, length), not as the view the encoder returned:
 * held for Timer J's 32 s, a Uint8Array/Buffer object is ~96 heap bytes per transaction for the GC to promote and
 * mark, while a retransmission (the only reader) is rare.
 */
export class CompletedServerTransaction<T> {
  /** Set when Timer J fired, a transport error ended it (§17.2.4), or the layer closed. */
  ended = false;
  private readonly buffer: ArrayBufferLike;
  private readonly byteOffset: number;
  private readonly byteLength: number;

  constructor(
    readonly id: number,
    readonly key: string,
    bytes: Uint8Array,
    readonly target: T,
  ) {
    this.buffer = bytes.buffer;
    this.byteOffset = bytes.byteOffset;
    this.byteLength = bytes.byteLength;
  }

  /** The encoded final response: a new view of the same memory on each read. */
  get bytes(): Uint8Array {
    return new Uint8Array(this.buffer, this.byteOffset, this.byteLength);
  }

  /** The RFC state a TU still holding the transaction sees. */
  get state(): TransactionStateName {
    return this.ended ? 'Terminated' : 'Completed';
  }
}

/** Completed transactions, keyed for §17.2.3 matching, each ended by its Timer J. */
export class CompletedServerTransactions<T> {
  private readonly byKey = new Map<string, CompletedServerTransaction<T>>();
  /** Timer J is a constant (64·T1), so the entries end in the order they were added. */
  private readonly timerJ: ExpiryFifo<CompletedServerTransaction<T>>;

  /**
   * @param timerJMs Timer J (RFC 3261 §17.2.2: 64·T1 for unreliable transports).
   * @param slotMs see {@link ExpiryFifo}: Timer J fires up to this much late, never early.
   * @param onEnded called for each entry Timer J ends (not for {@link end} or {@link clear}); must not throw.
   */
  constructor(clock: Clock, timerJMs: number, slotMs: number, onEnded: (entry: CompletedServerTransaction<T>) => void) {
    this.timerJ = new ExpiryFifo(clock, timerJMs, slotMs, (entry) => {
      if (entry.ended) return;
      // §17.2.2: Timer J fired in Completed: the transaction is Terminated and a new request with its key is new.
      this.end(entry);
      onEnded(entry);
    });
  }

  /** Live entries. */
  get size(): number {
    return this.byKey.size;
  }

  get(key: string): CompletedServerTransaction<T> | undefined {
    return this.byKey.get(key);
  }

  /** Adds an entry whose Timer J starts now. */
  add(entry: CompletedServerTransaction<T>): void {
    this.byKey.set(entry.key, entry);
    this.timerJ.push(entry, entry.id);
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
    this.timerJ.clear();
  }
}
