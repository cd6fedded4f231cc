/**
 * The RFC 3261 §17 transaction layer: matches messages to transactions (§17.1.3, §17.2.3), runs the pure FSMs
 * and executes their actions with an injected {@link Clock} and send function.
 *
 * @remarks
 * Caps (so nothing leaks, whatever the peers and the TU do):
 * - A server transaction whose TU has not given a final response after `nonInviteServerTuTimeoutMs` (default
 *   64·T1, when the client has given up anyway) or `inviteServerTuTimeoutMs` (default 300 s, above the proxy's
 *   180 s Timer C) is answered by the layer (default 408 Request Timeout, replaceable through
 *   `createTuTimeoutResponse`) and the listener's `onTuTimeout` is called; later TU responses are discarded.
 * - An INVITE client transaction still without a final response after `inviteClientTimeoutMs` (default 300 s)
 *   reports a timeout to its TU and ends (RFC 3261 gives Proceeding no timer; Timer C is the proxy's).
 * - Every transaction also has a hard lifetime cap ({@link TransactionLayer.lifetimeCapMs}): the longest path
 *   through its FSM under the caps above plus `lifetimeMarginMs`, counted from its creation. Reaching it forcibly
 *   ends the transaction and counts a `forcedTerminations`; a correct FSM never gets there. A non-INVITE server
 *   transaction's lifetime timer is only started when its TU cap fires (the TU cap and then Timer J bound it until
 *   then), so an absorbed REGISTER holds one cap timer, not two.
 *
 * TU notifications (responses, timeouts, transport errors) are made after the actions of the step that caused
 * them have all run, so the TU may call back into the layer from its callbacks.
 *
 * Memory: once a transaction has its final response it only absorbs retransmissions until Timer J/K/H/I/L, so
 * the layer then keeps only its keys, FSM state, one timer, the target and (with `encodeResponse`) the response
 * bytes. A non-INVITE transaction's TU object (request, callbacks) is released too unless a server listener or a
 * client callback may still be called with it; results then carry no `transaction`. A non-INVITE server
 * transaction over an unreliable transport whose final response was encoded and that no listener watches (the
 * absorbed REGISTER) goes further: its FSM, context and timers are dropped and one
 * {@link CompletedServerTransaction} (key, response bytes, target) waits out Timer J in a FIFO with one timer
 * (see completed-server-transactions.ts); non-INVITE server TU caps are a queue too (no timer object per REGISTER).
 * Layer-only, 50,000 completed REGISTER transactions held: 14.4 -> 5.4 heap objects and 785 -> 442 heap bytes each
 * (their flow and its address string included); keeping the response as its memory region rather than the
 * encoder's Buffer object then took one object and ~80 bytes more off each (316 -> 237 bytes, flows excluded).
 */
import type { Clock, TimerHandle } from './clock';
import { CompletedServerTransaction, CompletedServerTransactions } from './completed-server-transactions';
import { InvalidTimerSettingsError, InvalidTransactionRequestError, TransactionError } from './errors';
import { inviteClientFsm, type InviteClientContext, type InviteClientState } from './invite-client-fsm';
import { inviteServerFsm, type InviteServerContext, type InviteServerState } from './invite-server-fsm';
import { nonInviteClientFsm, type NonInviteClientState } from './non-invite-client-fsm';
import { nonInviteServerFsm, type NonInviteServerContext, type NonInviteServerState } from './non-invite-server-fsm';
import { ExpiryFifo } from './expiry-fifo';
import { DEFAULT_TIMER_SETTINGS, deriveTimers, type DerivedTimers, type TimerSettings } from './timer-settings';
import { clientTransactionKey, hasMagicCookie, serverTransactionKey } from './transaction-key';
import type {
  FsmContext,
  FsmStep,
  TimerName,
  TransactionAction,
  TransactionCodec,
  TransactionEvent,
  TransactionKind,
  TransactionMessage,
  TransactionStateName,
} from './types';

/** A transaction as the TU sees it. `T` is the transport's opaque target (flow or destination). */
export interface Transaction<M, T> {
  /** Unique within the layer, increasing. */
  readonly id: number;
  readonly kind: TransactionKind;
  /** The request that created the transaction. */
  readonly request: M;
  /** Where responses (server) or requests (client) are sent. */
  readonly target: T;
  readonly isReliable: boolean;
  readonly createdAtMs: number;
  /** The current RFC state. */
  readonly state: TransactionStateName;
}

/** Callbacks of a client transaction's TU. */
export interface ClientTransactionCallbacks<M, T> {
  /** A response passed up by the FSM (1xx, the final response, and in Accepted every 2xx). */
  onResponse(response: M, transaction: Transaction<M, T>): void;
  /** Timer B/F fired, or the INVITE client cap was reached, without a final response. */
  onTimeout?(transaction: Transaction<M, T>): void;
  onTransportError?(transaction: Transaction<M, T>): void;
  onTerminated?(transaction: Transaction<M, T>): void;
}

/** Notifications about server transactions, for the TU. All optional. */
export interface ServerTransactionListener<M, T> {
  /** The layer answered because the TU did not answer within its cap; later `respond` calls are discarded. */
  onTuTimeout?(transaction: Transaction<M, T>): void;
  /** Timer H fired: the ACK for a non-2xx final response never came (§17.2.1). */
  onTimeout?(transaction: Transaction<M, T>): void;
  onTransportError?(transaction: Transaction<M, T>): void;
  onTerminated?(transaction: Transaction<M, T>): void;
}

/** Caps on how long the layer waits for others. See the module remarks. */
export interface TransactionLimits {
  /** Default 64·T1. */
  readonly nonInviteServerTuTimeoutMs: number;
  /** Default 300 s. */
  readonly inviteServerTuTimeoutMs: number;
  /** Default 300 s. */
  readonly inviteClientTimeoutMs: number;
  /** Added to the longest FSM path to make the hard lifetime cap. Default T4. */
  readonly lifetimeMarginMs: number;
}

/**
 * A final response serialized once, with where it goes (for a response, the transport's route of RFC 3261
 * §18.2.2). A server transaction that has one keeps only this for its retransmissions.
 */
export interface EncodedResponse<T> {
  readonly bytes: Uint8Array;
  readonly target: T;
}

/** An opaque reference to a transaction, passed to `sendEncoded` for {@link TransactionLayer.reportTransportError}. */
export interface TransactionRef {
  readonly id: number;
}

/** Construction options of a {@link TransactionLayer}. */
export interface TransactionLayerOptions<M, T> {
  readonly clock: Clock;
  /**
   * Hands a message to the transport. Throwing reports a transport error to the transaction (§17.1.4, §17.2.4);
   * a failure found later is reported with {@link TransactionLayer.reportTransportError} on `transaction`.
   */
  readonly send: (message: M, target: T, transaction: Transaction<M, T>) => void;
  readonly codec: TransactionCodec<M>;
  /**
   * Serializes a server transaction's final response once (with its route). When given together with
   * `sendEncoded`, the final response and every retransmission of it (RFC 3261 §17.2.1, §17.2.2) go out through
   * `sendEncoded` as these bytes, and the transaction keeps no message object after its final response. When it
   * throws, the response goes through `send` unencoded (which reports the failure its own way).
   */
  readonly encodeResponse?: (response: M, target: T) => EncodedResponse<T>;
  /**
   * Sends an encoded final response. Throwing reports a transport error; a failure found later is reported with
   * {@link TransactionLayer.reportTransportError} on `transaction`.
   */
  readonly sendEncoded?: (encoded: EncodedResponse<T>, transaction: TransactionRef) => void;
  /** Default {@link DEFAULT_TIMER_SETTINGS}. */
  readonly timers?: TimerSettings;
  readonly limits?: Partial<TransactionLimits>;
  /**
   * Whether INVITE server transactions send 100 Trying at once (§17.2.1). Default true; set false when the TU
   * always sends its own provisional response within 200 ms.
   */
  readonly sendTryingForInvite?: boolean;
  /** The layer's own answer when a TU does not answer in time. Default: 408 Request Timeout. */
  readonly createTuTimeoutResponse?: (request: M) => M;
  readonly serverListener?: ServerTransactionListener<M, T>;
  /**
   * Receives an error thrown by a TU callback (the layer stays consistent and still makes the other calls).
   * Without it the error is rethrown to the caller of the layer (or out of the clock's timer callback).
   */
  readonly onTuError?: (error: unknown, transaction: Transaction<M, T>) => void;
  /**
   * When positive, timers of at least {@link MIN_BUCKETED_DELAY_MS} (J, K, H, I, L, B, F, D, M and the layer's
   * caps) are rounded up to the next multiple of this many ms and share one clock timer per slot, instead of one
   * clock timer each; they fire up to this much late. Retransmission timers (A, E, G) stay exact. Default 0 (off).
   */
  readonly timerBucketMs?: number;
}

/** Timers this long or longer may be bucketed (see `timerBucketMs`); T1-based retransmission timers are shorter. */
export const MIN_BUCKETED_DELAY_MS = 1000;

/** Outcome of {@link TransactionLayer.receiveRequest}. */
export type ReceiveRequestResult<M, T> =
  /**
   * A new server transaction: the TU must handle its request and eventually call `respond`. For a CANCEL,
   * `cancels` is the INVITE server transaction it targets (§9.2), if any.
   */
  | { readonly kind: 'new'; readonly transaction: Transaction<M, T>; readonly cancels?: Transaction<M, T> }
  /**
   * Handled inside an existing transaction (retransmission, ACK for a non-2xx): nothing for the TU. `transaction`
   * is absent once the transaction keeps only its retransmission state (see {@link TransactionLayer}).
   */
  | { readonly kind: 'absorbed'; readonly transaction?: Transaction<M, T> }
  /**
   * No transaction applies and the TU routes the request statelessly: an ACK matching no transaction (the ACK
   * for a 2xx), or an ACK an Accepted INVITE transaction passes up (RFC 6026 §7.1), named in `transaction`.
   */
  | { readonly kind: 'stateless'; readonly transaction?: Transaction<M, T> };

/** Outcome of {@link TransactionLayer.receiveResponse}. */
export type ReceiveResponseResult<M, T> =
  /** `transaction` is absent once the transaction keeps only its retransmission state (after its final response). */
  | { readonly kind: 'matched'; readonly transaction?: Transaction<M, T> }
  /** §17.1.3: no client transaction matches; a proxy forwards it statelessly (§16.7) or drops it. */
  | { readonly kind: 'stateless' };

/** Outcome of {@link TransactionLayer.cancel}. */
export type CancelResult<M, T> =
  | { readonly kind: 'sent'; readonly transaction: Transaction<M, T> }
  /** §9.1: no provisional response yet; the CANCEL goes out when the first one arrives. */
  | { readonly kind: 'deferred' }
  /** A final response arrived, or a CANCEL was already requested: nothing is sent. */
  | { readonly kind: 'not-sent' };

/** Counters for tests and metrics. */
export interface TransactionLayerStats {
  readonly clientTransactions: number;
  readonly serverTransactions: number;
  /** Entries in the matching tables (a transaction may have two, see the RFC 2543 ACK alias). */
  readonly indexedKeys: number;
  readonly created: number;
  readonly terminated: number;
  /** Transactions ended by the hard lifetime cap (should stay 0). */
  readonly forcedTerminations: number;
}

/** A running FSM bound to its context. */
interface Machine<W> {
  readonly stateName: TransactionStateName;
  start(): readonly TransactionAction<W>[];
  step(event: TransactionEvent<W>): readonly TransactionAction<W>[];
  /** Drops the request (and an INVITE's 100 Trying) from the context: the FSM reads neither after its final response. */
  releaseRequest(): void;
}

type LayerTimer = TimerName | 'tu-cap' | 'invite-client-cap' | 'lifetime';

type Notice<W> =
  | { readonly kind: 'deliver-to-tu'; readonly message: W }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'transport-error' }
  | { readonly kind: 'terminated' };

type CancelState = 'none' | 'deferred' | 'done';

/**
 * What one dispatch did with the message it watched, as bits: {@link WATCHED_SENT} (the FSM sent it) and
 * {@link WATCHED_DELIVERED} (the FSM passed it to the TU). A number, not an object and an array of the messages
 * passed up: every step of every transaction returns one.
 */
type StepOutcome = number;
const WATCHED_SENT = 1;
const WATCHED_DELIVERED = 2;

/**
 * What the FSMs pass around: the TU's messages, or a final response serialized once, as `encodeResponse` returned
 * it. The layer tells the latter by identity with its transaction's `encoded` (not by wrapping it in a class of its
 * own: one object fewer per final response).
 */
type Wire<M, T> = M | EncodedResponse<T>;

/**
 * What the layer itself keeps of a transaction: matching keys, FSM, timers and send target. Once a transaction
 * has sent (server) or received (client) its final response and nothing can need the TU's object any more, the
 * layer drops `facade`, so the request, the TU's callbacks and the response objects become garbage while the
 * transaction waits out Timer J/K (RFC 3261 §17.2.2, §17.1.2.2) holding only this.
 */
/** A timer in a shared slot (see `timerBucketMs`); stopping it just forgets its core. */
class BucketedTimer<M, T> {
  constructor(
    public core: TransactionCore<M, T> | undefined,
    readonly timer: LayerTimer,
  ) {}
}

class TransactionCore<M, T> implements TransactionRef {
  /** The matching key, and for an RFC 2543 INVITE the alias under its final response's To tag (§17.2.3). */
  key: string | undefined;
  aliasKey: string | undefined;
  /**
   * Running timers as name, handle, name, handle…: a transaction has at most four, and a Map costs ~300 bytes.
   * Replaced, never grown: an exact-size array is 32–48 bytes, one grown by push keeps 17 slots (~150 bytes) for the
   * whole 32 s a completed transaction waits for Timer J.
   */
  private timerSlots: readonly unknown[] = NO_TIMERS;
  terminated = false;
  /** Set once {@link TransactionLayer} has let go of what only the TU needed. */
  retained = false;
  /** Set when the transaction was reduced to a {@link CompletedServerTransaction} (its FSM is then released). */
  completed: CompletedServerTransaction<T> | undefined;
  /** The final response as `encodeResponse` serialized it: the one {@link Wire} value that is not a TU message. */
  encoded: EncodedResponse<T> | undefined;
  machine!: Machine<Wire<M, T>>;
  facade: TransactionRecord<M, T> | undefined;

  constructor(
    readonly id: number,
    readonly kind: TransactionKind,
    readonly target: T,
    readonly isReliable: boolean,
  ) {}

  get isClient(): boolean {
    return this.kind === 'invite-client' || this.kind === 'non-invite-client';
  }

  timer(name: LayerTimer): TimerHandle | undefined {
    const slots = this.timerSlots;
    for (let index = 0; index < slots.length; index += 2) if (slots[index] === name) return slots[index + 1];
    return undefined;
  }

  hasTimer(name: LayerTimer): boolean {
    return this.timer(name) !== undefined;
  }

  setTimer(name: LayerTimer, handle: TimerHandle): void {
    this.deleteTimer(name);
    const slots = this.timerSlots;
    const next = new Array<unknown>(slots.length + 2);
    for (let index = 0; index < slots.length; index += 1) next[index] = slots[index];
    next[slots.length] = name;
    next[slots.length + 1] = handle;
    this.timerSlots = next;
  }

  deleteTimer(name: LayerTimer): void {
    const slots = this.timerSlots;
    const removed = slots.indexOf(name);
    if (removed < 0) return;
    if (slots.length === 2) {
      this.timerSlots = NO_TIMERS;
      return;
    }
    const next = new Array<unknown>(slots.length - 2);
    for (let index = 0, to = 0; index < slots.length; index += 1) if (index !== removed && index !== removed + 1) next[to++] = slots[index];
    this.timerSlots = next;
  }

  /** Removes every timer and returns their handles. */
  takeTimers(): readonly TimerHandle[] {
    // Most transactions end or are reduced holding no timer (the TU cap and Timer J are FIFOs): no array then.
    if (this.timerSlots.length === 0) return NO_TIMERS;
    const handles = this.timerSlots.filter((_, index) => index % 2 === 1);
    this.timerSlots = NO_TIMERS;
    return handles;
  }
}

const NO_TIMERS: readonly unknown[] = Object.freeze([]);

/** The TU's view of a transaction; everything stateful lives in its {@link TransactionCore}. */
class TransactionRecord<M, T> implements Transaction<M, T> {
  cancelState: CancelState = 'none';
  cancelCallbacks: ClientTransactionCallbacks<M, T> | undefined;

  constructor(
    readonly core: TransactionCore<M, T>,
    readonly request: M,
    readonly view: TransactionMessage,
    readonly createdAtMs: number,
    readonly callbacks: ClientTransactionCallbacks<M, T> | undefined,
  ) {}

  get id(): number {
    return this.core.id;
  }

  get kind(): TransactionKind {
    return this.core.kind;
  }

  get target(): T {
    return this.core.target;
  }

  get isReliable(): boolean {
    return this.core.isReliable;
  }

  get state(): TransactionStateName {
    return this.core.completed?.state ?? this.core.machine.stateName;
  }

  get isClient(): boolean {
    return this.core.isClient;
  }
}

class BoundMachine<S extends { readonly name: TransactionStateName }, W, C> implements Machine<W> {
  private state: S | undefined;

  constructor(
    private readonly fsm: { start(context: C): FsmStep<S, W>; step(context: C, state: S, event: TransactionEvent<W>): FsmStep<S, W> },
    private readonly context: C,
  ) {}

  get stateName(): TransactionStateName {
    return this.state === undefined ? 'Trying' : this.state.name;
  }

  start(): readonly TransactionAction<W>[] {
    const result = this.fsm.start(this.context);
    this.state = result.state;
    return result.actions;
  }

  step(event: TransactionEvent<W>): readonly TransactionAction<W>[] {
    if (this.state === undefined) throw new TransactionError('transaction stepped before it started');
    const result = this.fsm.step(this.context, this.state, event);
    this.state = result.state;
    return result.actions;
  }

  releaseRequest(): void {
    // The server FSMs and the non-INVITE client FSM read `request` (and `trying`) only in start() and before the
    // final response; the layer calls this only after it, so the cleared fields are never read. Cleared in place:
    // a copy would cost an object (and V8 a hidden class) per transaction.
    const context = this.context as { request?: unknown; trying?: unknown };
    context.request = undefined;
    if ('trying' in context) context.trying = undefined;
  }
}

/**
 * The non-INVITE server FSM bound to its context, the machine and the context being one object: one allocation
 * fewer for every REGISTER than a {@link BoundMachine} and a separate context (the hottest kind by far).
 *
 * The request and its receipt time are read from the transaction's TU object rather than copied: a time stored
 * in a field of its own is a separate heap number (~16 bytes per REGISTER). The FSM reads both only before the
 * final response (start, and RFC 4320's check of a provisional one), and the TU object is there until then.
 */
class NonInviteServerMachine<M, T> implements Machine<Wire<M, T>>, NonInviteServerContext<Wire<M, T>> {
  private state: NonInviteServerState<Wire<M, T>> | undefined;

  constructor(
    // Cleared by releaseRequest, so that the machine does not keep the TU object the layer lets go of.
    private record: TransactionRecord<M, T> | undefined,
    readonly isReliable: boolean,
    readonly timers: DerivedTimers,
  ) {}

  get request(): Wire<M, T> {
    return this.tuObject().request;
  }

  get createdAtMs(): number {
    return this.tuObject().createdAtMs;
  }

  get stateName(): TransactionStateName {
    return this.state === undefined ? 'Trying' : this.state.name;
  }

  start(): readonly TransactionAction<Wire<M, T>>[] {
    const result = nonInviteServerFsm.start<Wire<M, T>>(this);
    this.state = result.state;
    return result.actions;
  }

  step(event: TransactionEvent<Wire<M, T>>): readonly TransactionAction<Wire<M, T>>[] {
    if (this.state === undefined) throw new TransactionError('transaction stepped before it started');
    const result = nonInviteServerFsm.step<Wire<M, T>>(this, this.state, event);
    this.state = result.state;
    return result.actions;
  }

  releaseRequest(): void {
    // The layer calls this only after the final response, when the FSM reads neither field any more.
    this.record = undefined;
  }

  private tuObject(): TransactionRecord<M, T> {
    if (this.record === undefined) throw new TransactionError('the request of a transaction read after its final response');
    return this.record;
  }
}

/**
 * What a transaction reduced to a {@link CompletedServerTransaction} keeps as its machine, shared: the layer never
 * steps it (the core is no longer indexed, and `respond` and `reportTransportError` check `completed` first).
 */
const RELEASED_MACHINE: Machine<never> = Object.freeze({
  stateName: 'Completed',
  start: () => {
    throw new TransactionError('a released transaction cannot start');
  },
  step: () => {
    throw new TransactionError('a released transaction cannot step');
  },
  releaseRequest: () => undefined,
});

function bindMachine<S extends { readonly name: TransactionStateName }, W, C>(
  fsm: { start(context: C): FsmStep<S, W>; step(context: C, state: S, event: TransactionEvent<W>): FsmStep<S, W> },
  context: C,
): Machine<W> {
  return new BoundMachine(fsm, context);
}

/** States after the final response in which a transaction only absorbs retransmissions and waits for a timer. */
const RETAINED_STATES: ReadonlySet<TransactionStateName> = new Set(['Completed', 'Confirmed', 'Accepted', 'Terminated']);

const WAITING_STATES: ReadonlySet<TransactionStateName> = new Set(['Calling', 'Trying', 'Proceeding']);

/**
 * Keys, runs and times RFC 3261 §17 transactions.
 *
 * @example
 * const layer = new TransactionLayer({ clock, send: (m, flow) => transport.send(m, flow), codec });
 * const result = layer.receiveRequest(register, flow, false);
 * if (result.kind === 'new') decide(register).then((response) => layer.respond(result.transaction, response));
 */
export class TransactionLayer<M, T> {
  private readonly clock: Clock;
  private readonly sendMessage: (message: M, target: T, transaction: Transaction<M, T>) => void;
  private readonly encodeResponse: ((response: M, target: T) => EncodedResponse<T>) | undefined;
  private readonly sendEncoded: ((encoded: EncodedResponse<T>, transaction: TransactionRef) => void) | undefined;
  private readonly codec: TransactionCodec<M>;
  private readonly timers: DerivedTimers;
  private readonly limits: TransactionLimits;
  private readonly sendTryingForInvite: boolean;
  private readonly createTuTimeoutResponse: (request: M) => M;
  private readonly serverListener: ServerTransactionListener<M, T>;
  /** True when a server transaction's TU object must outlive its final response (a listener wants it later). */
  private readonly serverFacadeNeeded: boolean;
  private readonly onTuError: ((error: unknown, transaction: Transaction<M, T>) => void) | undefined;
  private readonly timerBucketMs: number;
  /** Bucketed timers by the due time of their slot, and the clock timer of each slot. */
  private readonly buckets = new Map<number, BucketedTimer<M, T>[]>();
  private readonly bucketClockTimers = new Map<number, TimerHandle>();
  /** Completed non-INVITE server transactions reduced to their retransmission state (see the module remarks). */
  private readonly completed: CompletedServerTransactions<T>;
  /**
   * The TU caps of non-INVITE server transactions, by key and id: one constant delay, so a FIFO instead of a timer
   * object per REGISTER that would outlive its answer in its slot for 32 s. An answered transaction's entry is
   * not removed; it is ignored when it falls due.
   */
  private readonly nonInviteTuCaps: ExpiryFifo<string>;
  private readonly clients = new Map<string, TransactionCore<M, T>>();
  private readonly servers = new Map<string, TransactionCore<M, T>>();
  private nextId = 1;
  private liveClients = 0;
  private liveServers = 0;
  private created = 0;
  private terminatedCount = 0;
  private forced = 0;

  constructor(options: TransactionLayerOptions<M, T>) {
    this.clock = options.clock;
    this.sendMessage = options.send;
    if ((options.encodeResponse === undefined) !== (options.sendEncoded === undefined)) {
      throw new TransactionError('encodeResponse and sendEncoded are given together or not at all');
    }
    this.encodeResponse = options.encodeResponse;
    this.sendEncoded = options.sendEncoded;
    this.codec = options.codec;
    this.timers = deriveTimers(options.timers ?? DEFAULT_TIMER_SETTINGS);
    this.limits = resolveLimits(this.timers, options.limits ?? {});
    this.sendTryingForInvite = options.sendTryingForInvite ?? true;
    this.createTuTimeoutResponse =
      options.createTuTimeoutResponse ?? ((request) => this.codec.createResponse(request, 408, 'Request Timeout'));
    this.serverListener = options.serverListener ?? {};
    const listener = this.serverListener;
    this.serverFacadeNeeded =
      listener.onTimeout !== undefined || listener.onTransportError !== undefined || listener.onTerminated !== undefined;
    this.onTuError = options.onTuError;
    this.timerBucketMs = options.timerBucketMs ?? 0;
    if (!Number.isFinite(this.timerBucketMs) || this.timerBucketMs < 0) {
      throw new InvalidTimerSettingsError(`timerBucketMs must be a non-negative number of milliseconds, got ${this.timerBucketMs}`);
    }
    this.completed = new CompletedServerTransactions<T>(this.clock, this.timers.sixtyFourT1Ms, this.timerBucketMs, () => {
      this.terminatedCount += 1;
      this.liveServers -= 1;
    });
    this.nonInviteTuCaps = new ExpiryFifo<string>(this.clock, this.limits.nonInviteServerTuTimeoutMs, this.timerBucketMs, (key, id) => {
      const core = this.servers.get(key);
      if (core !== undefined && core.id === id && WAITING_STATES.has(core.machine.stateName)) this.onTuCap(core);
    });
  }

  /** The hard lifetime cap of a transaction of `kind`, in ms from its creation. */
  lifetimeCapMs(kind: TransactionKind): number {
    const { sixtyFourT1Ms, t4Ms, timerDMs } = this.timers;
    const { lifetimeMarginMs } = this.limits;
    switch (kind) {
      case 'non-invite-client':
        // Timer F bounds Trying/Proceeding, then Timer K.
        return sixtyFourT1Ms + t4Ms + lifetimeMarginMs;
      case 'invite-client':
        // Timer B or the INVITE client cap, then Timer D or Timer M.
        return (
          Math.max(sixtyFourT1Ms, this.limits.inviteClientTimeoutMs) + Math.max(timerDMs, sixtyFourT1Ms) + lifetimeMarginMs
        );
      case 'non-invite-server':
        // The TU cap, then Timer J.
        return this.limits.nonInviteServerTuTimeoutMs + sixtyFourT1Ms + lifetimeMarginMs;
      case 'invite-server':
        // The TU cap, then Timer H and Timer I (longer than Timer L).
        return this.limits.inviteServerTuTimeoutMs + sixtyFourT1Ms + t4Ms + lifetimeMarginMs;
    }
  }

  /** Live transaction counts and lifetime counters. */
  stats(): TransactionLayerStats {
    return {
      clientTransactions: this.liveClients,
      serverTransactions: this.liveServers,
      indexedKeys: this.clients.size + this.servers.size + this.completed.size,
      created: this.created,
      terminated: this.terminatedCount,
      forcedTerminations: this.forced,
    };
  }

  /**
   * Passes a request received from the transport (§17.2.3 matching). `isReliable` is true for TCP/TLS.
   * `receivedAtMs` is the clock's time the transport read for this request (a new transaction's creation time);
   * without it the layer reads the clock.
   */
  receiveRequest(request: M, target: T, isReliable: boolean, receivedAtMs?: number): ReceiveRequestResult<M, T> {
    const view = this.codec.view(request);
    const key = serverTransactionKey(view);
    const existing = this.servers.get(key);
    if (view.method === 'ACK') {
      // §17.2.3: an ACK matches the INVITE server transaction it acknowledges; with none it is end-to-end (the
      // ACK for a 2xx) and belongs to the TU, never to a new transaction (§17.1.1.3).
      if (existing === undefined || existing.kind !== 'invite-server') return { kind: 'stateless' };
      const outcome = this.dispatch(existing, { kind: 'ack', message: request }, request);
      const transaction = existing.facade;
      if ((outcome & WATCHED_DELIVERED) !== 0) return transaction === undefined ? { kind: 'stateless' } : { kind: 'stateless', transaction };
      return transaction === undefined ? { kind: 'absorbed' } : { kind: 'absorbed', transaction };
    }
    if (existing !== undefined) {
      // §17.2.2 / §17.2.1: a retransmission is handled by its transaction and never reaches the TU again.
      this.dispatch(existing, { kind: 'request-retransmission', message: request });
      const transaction = existing.facade;
      return transaction === undefined ? { kind: 'absorbed' } : { kind: 'absorbed', transaction };
    }
    const completed = this.completed.get(key);
    if (completed !== undefined) {
      // §17.2.2: in Completed every request retransmission re-sends the final response.
      this.resendCompleted(completed);
      return ABSORBED;
    }
    const kind: TransactionKind = view.method === 'INVITE' ? 'invite-server' : 'non-invite-server';
    const nowMs = receivedAtMs ?? this.clock.nowMs();
    const record = this.createRecord(kind, request, view, target, isReliable, undefined, nowMs);
    const core = record.core;
    this.index(this.servers, core, key);
    core.machine =
      kind === 'invite-server'
        ? bindMachine<InviteServerState<Wire<M, T>>, Wire<M, T>, InviteServerContext<Wire<M, T>>>(inviteServerFsm, {
            request,
            isReliable,
            timers: this.timers,
            trying: this.sendTryingForInvite ? this.codec.createResponse(request, 100, 'Trying') : undefined,
          })
        : new NonInviteServerMachine<M, T>(record, isReliable, this.timers);
    if (kind === 'invite-server') {
      this.startLayerTimer(core, 'tu-cap', this.limits.inviteServerTuTimeoutMs, nowMs);
      this.startLayerTimer(core, 'lifetime', this.lifetimeCapMs(kind), nowMs);
    } else {
      // A non-INVITE server transaction's lifetime cap starts when its TU cap fires (onTuCap): before that the TU
      // cap bounds it, and after its final response Timer J does (§17.2.2). No timer object per REGISTER at all.
      this.nonInviteTuCaps.push(key, core.id);
    }
    this.run(core, core.machine.start(), undefined, nowMs);
    const cancels = view.method === 'CANCEL' ? this.findCancelTarget(view) : undefined;
    return cancels === undefined ? { kind: 'new', transaction: record } : { kind: 'new', transaction: record, cancels };
  }

  /**
   * The TU passes a response for a server transaction. Returns true when the transaction sent it, false when it
   * was discarded (the transaction ended or already sent a final response, or RFC 4320 forbids the provisional).
   */
  respond(transaction: Transaction<M, T>, response: M): boolean {
    const record = this.ownRecord(transaction);
    const core = record.core;
    if (core.isClient) throw new TransactionError(`respond() on a ${core.kind} transaction`);
    // §17.2.2: a final response passed by the TU in Completed is discarded.
    if (core.terminated || core.completed !== undefined) return false;
    const status = this.codec.status(response);
    const message = status >= 200 && WAITING_STATES.has(record.state) ? this.encode(core, response) : response;
    const nowMs = this.clock.nowMs();
    const event: TransactionEvent<Wire<M, T>> = { kind: 'tu-response', message, status, nowMs };
    const sent = (this.run(core, core.machine.step(event), message, nowMs) & WATCHED_SENT) !== 0;
    if (sent) this.onServerResponseSent(record, response, status);
    return sent;
  }

  /**
   * The transport reports that a message of `transaction` could not be delivered (e.g. its TCP connection
   * closed): §17.1.4 and §17.2.4. `transaction` is the TU's object or the reference given to `sendEncoded`.
   */
  reportTransportError(transaction: Transaction<M, T> | TransactionRef): void {
    if (transaction instanceof CompletedServerTransaction) {
      this.endCompleted(transaction as CompletedServerTransaction<T>);
      return;
    }
    const core = this.ownCore(transaction);
    // The original send of the final response may fail after the transaction was reduced.
    if (core.completed !== undefined) this.endCompleted(core.completed);
    else if (!core.terminated) this.dispatch(core, { kind: 'transport-error' });
  }

  /**
   * Ends every transaction and stops every timer, without calling the TU or the listener: for shutdown, once
   * nothing can be sent any more.
   */
  close(): void {
    for (const table of [this.clients, this.servers]) {
      for (const core of table.values()) {
        core.terminated = true;
        for (const handle of core.takeTimers()) this.clearClockTimer(handle);
      }
      table.clear();
    }
    this.completed.clear();
    this.nonInviteTuCaps.clear();
    for (const handle of this.bucketClockTimers.values()) this.clock.clearTimer(handle);
    this.bucketClockTimers.clear();
    this.buckets.clear();
    this.liveClients = 0;
    this.liveServers = 0;
  }

  /**
   * Starts a client transaction for `request` (any method but ACK) toward `target`. The top Via branch must be
   * unique and carry the magic cookie (§8.1.1.7).
   *
   * @throws InvalidTransactionRequestError for an ACK, a branch without the cookie, or a branch in use.
   */
  sendRequest(
    request: M,
    target: T,
    isReliable: boolean,
    callbacks: ClientTransactionCallbacks<M, T>,
  ): Transaction<M, T> {
    const view = this.codec.view(request);
    if (view.method === 'ACK') {
      throw new InvalidTransactionRequestError('an ACK is never sent in a client transaction (§17.1.1.3)');
    }
    if (!hasMagicCookie(view.via.branch)) {
      throw new InvalidTransactionRequestError(`top Via branch ${String(view.via.branch)} lacks the magic cookie`);
    }
    const key = clientTransactionKey(view);
    if (this.clients.has(key)) {
      throw new InvalidTransactionRequestError(`a ${view.method} client transaction with branch ${view.via.branch} exists`);
    }
    const kind: TransactionKind = view.method === 'INVITE' ? 'invite-client' : 'non-invite-client';
    const nowMs = this.clock.nowMs();
    const record = this.createRecord(kind, request, view, target, isReliable, callbacks, nowMs);
    const core = record.core;
    this.index(this.clients, core, key);
    core.machine =
      kind === 'invite-client'
        ? bindMachine<InviteClientState<Wire<M, T>>, Wire<M, T>, InviteClientContext<Wire<M, T>>>(inviteClientFsm, {
            request,
            isReliable,
            timers: this.timers,
            // Client transactions only ever see the TU's and the transport's messages, never an encoded response.
            createAck: (response) => this.codec.createAck(request, response as M),
          })
        : bindMachine<NonInviteClientState, Wire<M, T>, FsmContext<Wire<M, T>>>(nonInviteClientFsm, {
            request,
            isReliable,
            timers: this.timers,
          });
    if (kind === 'invite-client') this.startLayerTimer(core, 'invite-client-cap', this.limits.inviteClientTimeoutMs, nowMs);
    this.startLayerTimer(core, 'lifetime', this.lifetimeCapMs(kind), nowMs);
    this.run(core, core.machine.start(), undefined, nowMs);
    return record;
  }

  /**
   * CANCELs an INVITE client transaction (§9.1): the CANCEL is its own non-INVITE client transaction, sent to the
   * same target, at once if a provisional response arrived, otherwise when the first one does.
   */
  cancel(invite: Transaction<M, T>, callbacks: ClientTransactionCallbacks<M, T> = { onResponse: () => undefined }): CancelResult<M, T> {
    const record = this.ownRecord(invite);
    if (record.kind !== 'invite-client') throw new TransactionError(`cancel() on a ${record.kind} transaction`);
    if (record.cancelState !== 'none' || record.core.terminated) return { kind: 'not-sent' };
    switch (record.state) {
      case 'Calling':
        // §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent; rather, the
        // client MUST wait for the arrival of a provisional response before sending the request."
        record.cancelState = 'deferred';
        record.cancelCallbacks = callbacks;
        return { kind: 'deferred' };
      case 'Proceeding':
        record.cancelState = 'done';
        return { kind: 'sent', transaction: this.sendCancel(record, callbacks) };
      default:
        // §9.1: once a final response arrived the CANCEL has no effect and SHOULD NOT be sent.
        return { kind: 'not-sent' };
    }
  }

  /** Passes a response received from the transport (§17.1.3 matching). */
  receiveResponse(response: M): ReceiveResponseResult<M, T> {
    const view = this.codec.view(response);
    const core = this.clients.get(clientTransactionKey(view));
    if (core === undefined) return { kind: 'stateless' };
    this.dispatch(core, { kind: 'response', message: response, status: view.status });
    const transaction = core.facade;
    return transaction === undefined ? { kind: 'matched' } : { kind: 'matched', transaction };
  }

  private createRecord(
    kind: TransactionKind,
    request: M,
    view: TransactionMessage,
    target: T,
    isReliable: boolean,
    callbacks: ClientTransactionCallbacks<M, T> | undefined,
    nowMs: number,
  ): TransactionRecord<M, T> {
    this.created += 1;
    if (kind === 'invite-client' || kind === 'non-invite-client') this.liveClients += 1;
    else this.liveServers += 1;
    const core = new TransactionCore<M, T>(this.nextId++, kind, target, isReliable);
    const record = new TransactionRecord(core, request, view, nowMs, callbacks);
    core.facade = record;
    return record;
  }

  private ownRecord(transaction: Transaction<M, T>): TransactionRecord<M, T> {
    if (!(transaction instanceof TransactionRecord)) {
      throw new TransactionError('not a transaction of this layer');
    }
    return transaction as TransactionRecord<M, T>;
  }

  private ownCore(transaction: Transaction<M, T> | TransactionRef): TransactionCore<M, T> {
    if (transaction instanceof TransactionCore) return transaction as TransactionCore<M, T>;
    return this.ownRecord(transaction as Transaction<M, T>).core;
  }

  private index(table: Map<string, TransactionCore<M, T>>, core: TransactionCore<M, T>, key: string): void {
    table.set(key, core);
    if (core.key === undefined) core.key = key;
    else core.aliasKey = key;
  }

  /** Serializes a final response once when the gateway gave an encoder; on failure `send` reports it later. */
  private encode(core: TransactionCore<M, T>, response: M): Wire<M, T> {
    if (this.encodeResponse === undefined) return response;
    try {
      const encoded = this.encodeResponse(response, core.target);
      core.encoded = encoded;
      return encoded;
    } catch {
      return response;
    }
  }

  /** §9.2: the INVITE server transaction a CANCEL targets (same matching, method INVITE). */
  private findCancelTarget(view: TransactionMessage): TransactionRecord<M, T> | undefined {
    const target = this.servers.get(serverTransactionKey(view, 'INVITE'));
    return target !== undefined && target.kind === 'invite-server' && !target.terminated ? target.facade : undefined;
  }

  /**
   * RFC 2543 peers acknowledge with the To tag of the final response: index the INVITE under that key too.
   */
  private onServerResponseSent(record: TransactionRecord<M, T>, response: M, status: number): void {
    if (record.kind !== 'invite-server' || status < 300 || hasMagicCookie(record.view.via.branch)) return;
    const toTag = this.codec.view(response).toTag;
    if (toTag === record.view.toTag || record.core.terminated) return;
    const key = serverTransactionKey({ ...record.view, toTag });
    if (!this.servers.has(key)) this.index(this.servers, record.core, key);
  }

  private sendCancel(invite: TransactionRecord<M, T>, callbacks: ClientTransactionCallbacks<M, T>): Transaction<M, T> {
    return this.sendRequest(this.codec.createCancel(invite.request), invite.target, invite.isReliable, callbacks);
  }

  /** Feeds one event to a transaction and runs the resulting actions. */
  private dispatch(core: TransactionCore<M, T>, event: TransactionEvent<Wire<M, T>>, watched?: Wire<M, T>): StepOutcome {
    return this.run(core, core.machine.step(event), watched);
  }

  /**
   * Runs a step's actions and every follow-up (a send failure becomes a transport-error event), then notifies
   * the TU. `nowMs`, when the caller has read the clock already, places the step's timers (one clock read saved).
   */
  private run(
    core: TransactionCore<M, T>,
    first: readonly TransactionAction<Wire<M, T>>[],
    watched?: Wire<M, T>,
    nowMs?: number,
  ): StepOutcome {
    let notices: Notice<Wire<M, T>>[] | undefined;
    let outcome = 0;
    /** The encoded final response sent, and whether the FIFO times Timer J instead of a timer (see reduce). */
    let encodedSent: EncodedResponse<T> | undefined;
    let timerJ = false;
    let actions: readonly TransactionAction<Wire<M, T>>[] | undefined = first;
    while (actions !== undefined) {
      let sendFailed = false;
      for (const action of actions) {
        switch (action.kind) {
          case 'send':
            if (core.terminated) break;
            try {
              this.transmit(core, action.message);
              if (action.message === watched) outcome |= WATCHED_SENT;
              if (action.message === core.encoded) encodedSent = core.encoded;
            } catch {
              sendFailed = true;
            }
            break;
          case 'start-timer':
            if (action.timer === 'J' && encodedSent !== undefined && this.isReducible(core, action.delayMs)) {
              timerJ = true;
              break;
            }
            this.startFsmTimer(core, action.timer, action.delayMs, nowMs);
            break;
          case 'stop-timer':
            this.stopTimer(core, action.timer);
            break;
          case 'deliver-to-tu':
            if (action.message === watched) outcome |= WATCHED_DELIVERED;
            // Only a client's TU is called with what its FSM passes up (notifyOne); a server's requests and ACKs
            // reach the TU through receiveRequest's result, so no notice (and no notices array) for them: every new
            // REGISTER's first step has this one action.
            if (core.isClient) notices = addNotice(notices, action);
            break;
          case 'timeout':
          case 'transport-error':
            notices = addNotice(notices, action);
            break;
          case 'terminate':
            this.remove(core);
            notices = addNotice(notices, TERMINATED_NOTICE);
            break;
        }
      }
      actions = sendFailed && !core.terminated ? core.machine.step({ kind: 'transport-error' }) : undefined;
    }
    if (timerJ && !core.terminated && core.machine.stateName === 'Completed') {
      // Only a step that sent the final response and started Timer J gets here: it passes nothing to the TU.
      this.reduce(core, encodedSent!);
      return outcome;
    }
    const facade = core.facade;
    if (facade !== undefined) {
      this.afterStep(facade);
      if (!core.retained && RETAINED_STATES.has(core.machine.stateName)) this.retain(core, facade);
    }
    if (notices !== undefined && facade !== undefined) this.notify(facade, notices);
    return outcome;
  }

  private transmit(core: TransactionCore<M, T>, message: Wire<M, T>): void {
    const encoded = core.encoded;
    if (encoded !== undefined && message === encoded) {
      // Only set when both options are given (see encode).
      this.sendEncoded!(encoded, core);
      return;
    }
    // Anything else the FSMs pass around is a TU or transport message.
    this.sendMessage(message as M, core.target, core.facade!);
  }

  /**
   * After the final response: stop the TU cap (nothing is waited for any more) and let go of what only the TU
   * needed, keeping the core for retransmissions until its timer (§17.2.2 Timer J, §17.1.2.2 Timer K, §17.2.1).
   * INVITE transactions keep their TU object: CANCEL matching (§9.2), RFC 6026 Accepted 2xx and ACK pass-up and
   * the CANCEL/ACK built from the INVITE need it, and they are rare at a registrar.
   */
  private retain(core: TransactionCore<M, T>, facade: TransactionRecord<M, T>): void {
    if (!core.isClient) this.stopTimer(core, 'tu-cap');
    if (core.kind === 'invite-client') return;
    core.retained = true;
    if (core.kind === 'invite-server') {
      core.machine.releaseRequest();
      return;
    }
    const needed = core.isClient
      ? facade.callbacks?.onTerminated !== undefined || facade.callbacks?.onTransportError !== undefined
      : this.serverFacadeNeeded;
    core.machine.releaseRequest();
    if (!needed) core.facade = undefined;
    // Timer J (§17.2.2) or K (§17.1.2.2) now ends the transaction from Completed whatever happens, so the
    // lifetime cap has nothing left to guard and its timer need not be held for the whole wait.
    if (core.hasTimer(core.isClient ? 'K' : 'J')) this.stopTimer(core, 'lifetime');
  }

  /**
   * A non-INVITE server transaction over an unreliable transport that nothing watches after its final response
   * (no server listener needs its TU object) can be reduced to a {@link CompletedServerTransaction} when Completed.
   */
  private isReducible(core: TransactionCore<M, T>, timerJMs: number): boolean {
    // Timer J is 64·T1 over unreliable transports: the FIFO's constant delay.
    return core.kind === 'non-invite-server' && !core.isReliable && !this.serverFacadeNeeded && timerJMs === this.timers.sixtyFourT1Ms;
  }

  /**
   * §17.2.2 Completed, reduced: the transaction now only re-sends `encoded` to retransmissions until Timer J, so
   * its FSM, context, state, timers and TU object are dropped and the FIFO of completed transactions times Timer J. The core stays reachable only from a TU still holding the transaction.
   */
  private reduce(core: TransactionCore<M, T>, encoded: EncodedResponse<T>): void {
    for (const handle of core.takeTimers()) this.clearClockTimer(handle);
    // A non-INVITE server transaction has one key (the RFC 2543 alias is for INVITEs only).
    const key = core.key!;
    if (this.servers.get(key) === core) this.servers.delete(key);
    const entry = new CompletedServerTransaction<T>(core.id, key, encoded.bytes, encoded.target);
    core.completed = entry;
    core.machine = RELEASED_MACHINE;
    core.facade = undefined;
    this.completed.add(entry);
  }

  /** §17.2.2: re-sends the final response; a send that throws is a transport error (§17.2.4) and ends it. */
  private resendCompleted(entry: CompletedServerTransaction<T>): void {
    try {
      // Only reduced when both options are given (the response was encoded).
      this.sendEncoded!(entry, entry);
    } catch {
      this.endCompleted(entry);
    }
  }

  /** §17.2.4: a transport error ends a reduced transaction (nothing to notify: no listener watches it). */
  private endCompleted(entry: CompletedServerTransaction<T>): void {
    if (entry.ended) return;
    this.completed.end(entry);
    this.terminatedCount += 1;
    this.liveServers -= 1;
  }

  /** Sends or drops a deferred CANCEL once the INVITE's state allows (§9.1). */
  private afterStep(record: TransactionRecord<M, T>): void {
    if (record.cancelState !== 'deferred') return;
    const callbacks = record.cancelCallbacks ?? { onResponse: () => undefined };
    if (record.state === 'Proceeding') {
      record.cancelState = 'done';
      record.cancelCallbacks = undefined;
      this.sendCancel(record, callbacks);
    } else if (record.state !== 'Calling') {
      record.cancelState = 'done';
      record.cancelCallbacks = undefined;
    }
  }

  /**
   * Calls the TU for each notice. A TU callback that throws does not stop the others (the transaction is already
   * consistent); the first error goes to `onTuError`, or is rethrown after all notices when there is none.
   */
  private notify(record: TransactionRecord<M, T>, notices: readonly Notice<Wire<M, T>>[]): void {
    let failure: { error: unknown } | undefined;
    for (const notice of notices) {
      try {
        this.notifyOne(record, notice);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) {
      if (this.onTuError === undefined) throw failure.error;
      this.onTuError(failure.error, record);
    }
  }

  private notifyOne(record: TransactionRecord<M, T>, notice: Notice<Wire<M, T>>): void {
    switch (notice.kind) {
      case 'deliver-to-tu':
        // Only client transactions get this notice (see run). A client FSM passes up only responses from the
        // transport, never an encoded response.
        record.callbacks?.onResponse(notice.message as M, record);
        break;
      case 'timeout':
        if (record.isClient) record.callbacks?.onTimeout?.(record);
        else this.serverListener.onTimeout?.(record);
        break;
      case 'transport-error':
        if (record.isClient) record.callbacks?.onTransportError?.(record);
        else this.serverListener.onTransportError?.(record);
        break;
      case 'terminated':
        if (record.isClient) record.callbacks?.onTerminated?.(record);
        else this.serverListener.onTerminated?.(record);
        break;
    }
  }

  private startFsmTimer(core: TransactionCore<M, T>, timer: TimerName, delayMs: number, nowMs: number | undefined): void {
    if (core.terminated) return;
    this.startTimer(core, timer, delayMs, nowMs);
  }

  private startLayerTimer(
    core: TransactionCore<M, T>,
    timer: Exclude<LayerTimer, TimerName>,
    delayMs: number,
    nowMs: number | undefined,
  ): void {
    this.startTimer(core, timer, delayMs, nowMs);
  }

  private startTimer(core: TransactionCore<M, T>, timer: LayerTimer, delayMs: number, nowMs: number | undefined): void {
    this.stopTimer(core, timer);
    if (this.timerBucketMs > 0 && delayMs >= MIN_BUCKETED_DELAY_MS) {
      core.setTimer(timer, this.addToBucket(core, timer, delayMs, nowMs ?? this.clock.nowMs()));
      return;
    }
    const handle: TimerHandle = this.clock.setTimer(delayMs, () => this.fireTimer(core, timer, handle));
    core.setTimer(timer, handle);
  }

  private addToBucket(core: TransactionCore<M, T>, timer: LayerTimer, delayMs: number, nowMs: number): BucketedTimer<M, T> {
    const dueMs = Math.ceil((nowMs + delayMs) / this.timerBucketMs) * this.timerBucketMs;
    let bucket = this.buckets.get(dueMs);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(dueMs, bucket);
      this.bucketClockTimers.set(
        dueMs,
        this.clock.setTimer(dueMs - nowMs, () => this.fireBucket(dueMs)),
      );
    }
    const entry = new BucketedTimer(core, timer);
    bucket.push(entry);
    return entry;
  }

  /** Fires every live timer of a slot; one that throws does not stop the others (the first error is rethrown). */
  private fireBucket(dueMs: number): void {
    const bucket = this.buckets.get(dueMs);
    this.buckets.delete(dueMs);
    this.bucketClockTimers.delete(dueMs);
    if (bucket === undefined) return;
    let failure: { error: unknown } | undefined;
    for (const entry of bucket) {
      const core = entry.core;
      if (core === undefined) continue;
      entry.core = undefined;
      try {
        this.fireTimer(core, entry.timer, entry);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  private clearClockTimer(handle: TimerHandle): void {
    if (handle instanceof BucketedTimer) handle.core = undefined;
    else this.clock.clearTimer(handle);
  }

  /** One shared handler for every timer: the closure given to the clock holds only the core, name and handle. */
  private fireTimer(core: TransactionCore<M, T>, timer: LayerTimer, handle: TimerHandle): void {
    // A timer stopped or replaced after being scheduled must not act (defensive against real clocks).
    if (core.terminated || core.timer(timer) !== handle) return;
    core.deleteTimer(timer);
    switch (timer) {
      case 'tu-cap':
        this.onTuCap(core);
        break;
      case 'invite-client-cap':
        this.onInviteClientCap(core);
        break;
      case 'lifetime':
        this.onLifetimeCap(core);
        break;
      default:
        this.dispatch(core, { kind: 'timer', timer });
    }
  }

  private stopTimer(core: TransactionCore<M, T>, timer: LayerTimer): void {
    const handle = core.timer(timer);
    if (handle === undefined) return;
    this.clearClockTimer(handle);
    core.deleteTimer(timer);
  }

  /** The TU did not answer a server transaction in time: the layer answers for it. */
  private onTuCap(core: TransactionCore<M, T>): void {
    if (core.kind === 'non-invite-server') {
      // The lifetime cap, counted from creation, takes over from here (see receiveRequest).
      const remainingMs = this.lifetimeCapMs(core.kind) - this.limits.nonInviteServerTuTimeoutMs;
      this.startLayerTimer(core, 'lifetime', remainingMs, undefined);
    }
    const record = core.facade;
    // Waiting states always have their TU object: it is dropped only after the final response.
    if (record === undefined || !WAITING_STATES.has(record.state)) return;
    this.respond(record, this.createTuTimeoutResponse(record.request));
    this.serverListener.onTuTimeout?.(record);
  }

  /** An INVITE client transaction waited its cap without a final response. */
  private onInviteClientCap(core: TransactionCore<M, T>): void {
    const record = core.facade;
    if (record === undefined || !WAITING_STATES.has(record.state)) return;
    this.remove(core);
    this.notify(record, [{ kind: 'timeout' }, TERMINATED_NOTICE]);
  }

  /** The hard lifetime cap: end the transaction whatever its state. */
  private onLifetimeCap(core: TransactionCore<M, T>): void {
    this.forced += 1;
    const waiting = WAITING_STATES.has(core.machine.stateName);
    this.remove(core);
    const record = core.facade;
    if (record !== undefined) this.notify(record, waiting ? [{ kind: 'timeout' }, TERMINATED_NOTICE] : [TERMINATED_NOTICE]);
  }

  private remove(core: TransactionCore<M, T>): void {
    if (core.terminated) return;
    core.terminated = true;
    this.terminatedCount += 1;
    if (core.isClient) this.liveClients -= 1;
    else this.liveServers -= 1;
    for (const handle of core.takeTimers()) this.clearClockTimer(handle);
    const table = core.isClient ? this.clients : this.servers;
    for (const key of [core.key, core.aliasKey]) {
      if (key !== undefined && table.get(key) === core) table.delete(key);
    }
    if (core.facade !== undefined) core.facade.cancelCallbacks = undefined;
  }
}

const TERMINATED_NOTICE = { kind: 'terminated' } as const;

/** The result of a retransmission absorbed by a reduced transaction, shared (one object fewer per retransmission). */
const ABSORBED = Object.freeze({ kind: 'absorbed' } as const);

/**
 * Appends a notice. The first makes a one-slot array: an empty array grown by push gets 17 slots (~150 bytes), and
 * most steps have one notice (the request passed to the TU, or `terminated`).
 */
function addNotice<W>(notices: Notice<W>[] | undefined, notice: Notice<W>): Notice<W>[] {
  if (notices === undefined) return [notice];
  notices.push(notice);
  return notices;
}

function resolveLimits(timers: DerivedTimers, limits: Partial<TransactionLimits>): TransactionLimits {
  const resolved: TransactionLimits = {
    nonInviteServerTuTimeoutMs: limits.nonInviteServerTuTimeoutMs ?? timers.sixtyFourT1Ms,
    inviteServerTuTimeoutMs: limits.inviteServerTuTimeoutMs ?? 300_000,
    inviteClientTimeoutMs: limits.inviteClientTimeoutMs ?? 300_000,
    lifetimeMarginMs: limits.lifetimeMarginMs ?? timers.t4Ms,
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new InvalidTimerSettingsError(`limit ${key} must be a positive number of milliseconds, got ${value}`);
    }
  }
  return resolved;
}
