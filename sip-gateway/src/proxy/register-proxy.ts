/**
 * The REGISTER flow of the gateway (SPEC §4–7 as executed by the gateway, DESIGN §2).
 *
 * @remarks
 * A REGISTER's server transaction stays suspended while the `register` decision is pending; the
 * transaction layer absorbs retransmissions, so exactly one decision is asked per transaction (GEN-6).
 * The decision is executed: a local answer (absorb, reject), or a stateful relay upstream (RFC 3261
 * §16, FWD-1) whose outcome goes through the `register-reply` decision:
 * - 100 is dropped, other provisional responses are forwarded (RPL-1);
 * - a 2xx is processed once (RPL-2) and answered as the decision says (RPL-7, RPL-10);
 * - any other final response is forwarded unchanged at once, then reported so the pending relay is
 *   released (RPL-1, 401/407 pass through and the retry is decided afresh);
 * - no final response within `upstreamTimeout` or a transport failure gets the decision's 504/503
 *   (RPL-9); a later response is ignored.
 *
 * SIP specifics (parsing the essentials, building responses and the relayed request) come through the
 * {@link RegisterMessages} port, so this flow is tested with fakes.
 */
import type {
  Flow as ContractFlow,
  LocalResponse,
  RegisterReplyDecision,
  RelayContext,
  RelayInstructions,
  RegisterRequest,
  UpstreamOutcome,
} from '../../../functions/core/contract';
import { CONTRACT_VERSION } from '../../../functions/core/contract';
import { REGISTRAR_ERRORS, registrarErrorResponse } from '../../../functions/core/errors';
import type { DecisionInvoker } from '../decision/decision-invoker';
import type { Logger } from '../observability/logger';
import type { MetricsRegistry } from '../observability/metrics-registry';
import type { Clock } from '../transaction/clock';
import type { ClientTransactionCallbacks, Transaction } from '../transaction/transaction-layer';

/** The SIP work the REGISTER flow needs from the codec. */
export interface RegisterMessages<M> {
  /**
   * REG-1 steps 1–2 (headers present and parsable, CSeq method REGISTER): the essentials for the
   * decision, or the local error response (ERR-6) when a check fails.
   */
  toRegisterRequest(request: M, flow: ContractFlow, receivedAtMs: number): RegisterRequest | { error: LocalResponse };
  /** A local response to `request` (RFC 3261 §8.2.6): Via, From, To (+ tag), Call-ID, CSeq copied, then the headers. */
  localResponse(request: M, response: LocalResponse): M;
  /**
   * The relayed request: FWD-1 rewrites per `relay`, our Via (sent-by from `relay.sourceUri`, FWD-9;
   * `viaTransport` of the next hop; `branch`) on top, Max-Forwards − 1.
   */
  relayRequest(request: M, relay: RelayInstructions, branch: string, viaTransport: string): M;
  /** Status code of a response. */
  status(response: M): number;
  /** The outcome of a final response for `register-reply` (contacts, Expires, times). */
  finalOutcome(response: M, sentAtMs: number, receivedAtMs: number): UpstreamOutcome;
  /** An upstream response as forwarded to the UA: our top Via removed (RFC 3261 §16.7 step 3). */
  forwardResponse(response: M): M;
  /** RPL-7: the upstream 2xx for the UA with `removeHeaders` removed and `addHeaders` appended, top Via removed. */
  rewriteResponse(response: M, removeHeaders: readonly string[], addHeaders: readonly (readonly [string, string])[]): M;
}

/** Where and how a relay leaves. */
export interface UpstreamHop<T> {
  target: T;
  isReliable: boolean;
  /** Via transport token of the hop: `UDP`, `TCP` or `TLS`. */
  viaTransport: string;
}

/** The transaction-layer operations the flow uses. */
export interface RegisterTransactions<M, T> {
  respond(transaction: Transaction<M, T>, response: M): boolean;
  sendRequest(request: M, target: T, isReliable: boolean, callbacks: ClientTransactionCallbacks<M, T>): Transaction<M, T>;
}

/** Dependencies of {@link RegisterProxy}. */
export interface RegisterProxyOptions<M, T> {
  invoker: DecisionInvoker;
  transactions: RegisterTransactions<M, T>;
  messages: RegisterMessages<M>;
  /** Where to send a relay: `outboundProxy` (`host:port[;transport=x]`) if set, else its Request-URI. */
  resolveUpstream(nextHop: string): UpstreamHop<T>;
  clock: Clock;
  /** RPL-9: wait this long for a final response upstream (`upstreamTimeout`). */
  upstreamTimeoutMs: number;
  /** ERR-2 `retryAfter` for locally generated 5xx. */
  retryAfterMs: number;
  /** Random Via branch suffix (after the magic cookie) for each relay. */
  newBranch(): string;
  /** Random To tag for locally built answers. */
  newToTag(): string;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

/** RFC 3261 §8.1.1.7 magic cookie. */
const MAGIC_COOKIE = 'z9hG4bK';

/**
 * Executes REGISTER decisions for server transactions.
 *
 * @example
 * const proxy = new RegisterProxy({ invoker, transactions, messages, resolveUpstream, clock, upstreamTimeoutMs: 10_000, … });
 * proxy.handle(serverTransaction, contractFlow, nowMs); // once per new REGISTER server transaction
 */
export class RegisterProxy<M, T> {
  private inFlight = 0;

  constructor(private readonly options: RegisterProxyOptions<M, T>) {}

  /** REGISTER transactions not yet answered with a final response. */
  get pendingCount(): number {
    return this.inFlight;
  }

  /**
   * Handles a NEW REGISTER server transaction (never a retransmission: the transaction layer absorbs
   * those, GEN-6). Resolves once the UA has its final response.
   */
  async handle(transaction: Transaction<M, T>, flow: ContractFlow, receivedAtMs: number): Promise<void> {
    this.inFlight += 1;
    // One async frame per REGISTER (the absorb path is the hot path of the gateway).
    try {
      const essentials = this.options.messages.toRegisterRequest(transaction.request, flow, receivedAtMs);
      if ('error' in essentials) {
        this.respondLocal(transaction, essentials.error);
        return;
      }
      this.options.metrics?.increment('register_decisions');
      const decision = await this.options.invoker.decideRegister(essentials);
      switch (decision.kind) {
        case 'absorb':
          this.options.metrics?.increment('register_absorbed');
          this.respondLocal(transaction, decision.response);
          return;
        case 'reject':
          this.respondLocal(transaction, decision.response);
          return;
        case 'forward':
          this.options.metrics?.increment('register_relayed');
          await this.relay(transaction, decision.relay, decision.context);
          return;
      }
    } catch (error) {
      // ERR-3: an unexpected failure gives 500 when an answer is possible; it never stops the process.
      this.options.logger?.error({ err: error }, 'REGISTER flow failed');
      this.respondLocal(transaction, registrarErrorResponse(REGISTRAR_ERRORS.internalError, this.options.retryAfterMs, this.options.newToTag()));
    } finally {
      this.inFlight -= 1;
    }
  }

  private respondLocal(transaction: Transaction<M, T>, response: LocalResponse): void {
    this.options.transactions.respond(transaction, this.options.messages.localResponse(transaction.request, response));
  }

  /** FWD-1: a stateful relay; resolves when the UA has its final response. */
  private relay(server: Transaction<M, T>, instructions: RelayInstructions, context: RelayContext): Promise<void> {
    const { messages, transactions, clock } = this.options;
    return new Promise<void>((done) => {
      let finished = false;
      const sentAtMs = clock.nowMs();
      const finish = (outcome: UpstreamOutcome, upstreamResponse: M | undefined): void => {
        if (finished) return;
        finished = true;
        clock.clearTimer(timer);
        void this.conclude(server, context, outcome, upstreamResponse).finally(done);
      };
      // RPL-9: our own bound, shorter than Timer F, on waiting for upstream's final response.
      const timer = clock.setTimer(this.options.upstreamTimeoutMs, () => finish({ kind: 'timeout', atMs: clock.nowMs() }, undefined));
      const callbacks: ClientTransactionCallbacks<M, T> = {
        onResponse: (response) => {
          if (finished) return;
          const status = messages.status(response);
          if (status < 200) {
            // RPL-1: 100 is hop-by-hop (RFC 3261 §16.7 step 5); other provisionals go to the UA.
            if (status > 100) transactions.respond(server, messages.forwardResponse(response));
            return;
          }
          finish(messages.finalOutcome(response, sentAtMs, clock.nowMs()), response);
        },
        onTimeout: () => finish({ kind: 'timeout', atMs: clock.nowMs() }, undefined),
        onTransportError: () => finish({ kind: 'transport-error', atMs: clock.nowMs() }, undefined),
      };
      try {
        const hop = this.options.resolveUpstream(instructions.outboundProxy ?? instructions.requestUri);
        const branch = `${MAGIC_COOKIE}${this.options.newBranch()}`;
        const relayed = messages.relayRequest(server.request, instructions, branch, hop.viaTransport);
        transactions.sendRequest(relayed, hop.target, hop.isReliable, callbacks);
      } catch (error) {
        this.options.logger?.warn({ err: error, aor: context.aor }, 'relay could not be sent');
        finish({ kind: 'transport-error', atMs: clock.nowMs() }, undefined);
      }
    });
  }

  private async conclude(server: Transaction<M, T>, context: RelayContext, outcome: UpstreamOutcome, upstreamResponse: M | undefined): Promise<void> {
    const { messages, transactions, invoker } = this.options;
    const isSuccess = outcome.kind === 'final' && outcome.status >= 200 && outcome.status < 300;
    if (upstreamResponse !== undefined && !isSuccess) {
      // RPL-1: a non-2xx final goes to the UA unchanged at once; the report below only releases the relay.
      transactions.respond(server, messages.forwardResponse(upstreamResponse));
      if (outcome.kind === 'final' && outcome.status === 423) this.options.logger?.warn({ aor: context.aor }, 'upstream 423: outgoingExpires likely below its minimum');
    }
    const reply = await invoker.decideRegisterReply({ version: CONTRACT_VERSION, context, outcome });
    if (upstreamResponse !== undefined && !isSuccess) return;
    transactions.respond(server, this.replyResponse(server, reply, outcome, upstreamResponse));
  }

  private replyResponse(server: Transaction<M, T>, reply: RegisterReplyDecision, outcome: UpstreamOutcome, upstreamResponse: M | undefined): M {
    const { messages } = this.options;
    if (reply.kind === 'respond') return messages.localResponse(server.request, reply.response);
    if (upstreamResponse !== undefined) {
      return reply.kind === 'rewrite'
        ? messages.rewriteResponse(upstreamResponse, reply.removeHeaders, reply.addHeaders)
        : messages.forwardResponse(upstreamResponse);
    }
    // A decision that cannot apply (no upstream response to rewrite): RPL-9 still answers 504/503.
    const row = outcome.kind === 'timeout' ? REGISTRAR_ERRORS.upstreamTimeout : REGISTRAR_ERRORS.serviceUnavailable;
    return messages.localResponse(server.request, registrarErrorResponse(row, this.options.retryAfterMs, this.options.newToTag()));
  }
}
