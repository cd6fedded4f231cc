/**
 * The sip-gateway wiring (DESIGN §2): transports → transaction layer → proxy, with decisions asked
 * through a {@link DecisionInvoker}. The same object runs in `npm start` (in-process decisions) and in
 * the Fargate task (Lambda decisions), so both behave identically on the wire (GEN-1).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Flow as ContractFlow } from '../../functions/core/contract';
import type { MidRegistrarConfig } from '../../functions/core/config';
import { REGISTRAR_ERRORS, registrarErrorResponse } from '../../functions/core/errors';
import type { DecisionInvoker } from './decision/decision-invoker';
import { createPooledRandomBytes } from './decision/pooled-random-bytes';
import type { Logger } from './observability/logger';
import type { MetricsRegistry } from './observability/metrics-registry';
import { BindingConnectionPins } from './proxy/binding-connection-pins';
import { formatGatewayId, type InternalHopAddress } from './proxy/internal-hop';
import { RegisterProxy, type UpstreamHop } from './proxy/register-proxy';
import { RequestRouter } from './proxy/request-router';
import { createSipRegisterMessages } from './proxy/sip-register-messages';
import { createSipTransactionCodec } from './proxy/sip-transaction-codec';
import type { SipLimits } from './sip/limits';
import { createResponse, type SipMessage } from './sip/message';
import { parseUri } from './sip/uri';
import type { Clock } from './transaction/clock';
import { TransactionLayer, type ClientTransactionCallbacks, type Transaction, type TransactionRef } from './transaction/transaction-layer';
import type { Destination, Flow, ListenSpec, TransportProtocol } from './transport/flow';
import { createSipTransportCodec } from './transport/sip-transport-codec';
import { SystemClock } from './transport/system-clock';
import { TransportLayer } from './transport/transport-layer';

/** Where the transaction layer sends: a flow (responses, requests to devices) or a destination. */
export type SipTarget = Flow | Destination;

/** Options of {@link Gateway.start}. */
export interface GatewayOptions {
  config: MidRegistrarConfig;
  invoker: DecisionInvoker;
  /** This gateway instance (DESIGN §5 owner); recorded with every flow. */
  gatewayId: string;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /**
   * The internal hop address (DESIGN §5), TCP and UDP: requests for devices owned by other instances go to
   * their owner from here (over TCP), and owners take hopped requests here. `gatewayId` must then be its
   * {@link formatGatewayId} (`<private address>:<port>`), which is what bindings record as owner.
   */
  internalHop?: InternalHopAddress;
  /** TCP idleness (PTH-4 pins keep binding connections open regardless). Defaults of the transport layer. */
  tcpIdleTimeoutMs?: number;
  tcpUnpinGraceMs?: number;
}

/** Metric names the gateway counts itself (register and transport counters live with their layers). */
export const GATEWAY_METRICS = {
  /** Final responses from the main registrar to relayed REGISTERs (the dashboard's `upstream_replies`). */
  upstreamReplies: 'upstream_replies',
  /** The same, per status class: `upstream_replies_2xx` … `upstream_replies_6xx`. */
  upstreamRepliesPrefix: 'upstream_replies_',
  /** Errors thrown by a transaction user callback (logged, the transaction stays consistent). */
  tuErrors: 'tu_errors',
} as const;

/**
 * Transaction timers of 1 s and more (Timer J held 32 s per REGISTER, K, H, I, B, F, the layer's caps) share one
 * clock timer per 100 ms slot and fire at most that much late; retransmission timers stay exact. Benchmarks:
 * one setTimeout and clearTimeout per transaction was ~2 % of the CPU per absorbed REGISTER.
 */
const TRANSACTION_TIMER_BUCKET_MS = 100;

const pooledRandomBytes = createPooledRandomBytes();
const randomHex = (bytes: number) => (): string => pooledRandomBytes(bytes).toString('hex');

/**
 * A running gateway.
 *
 * @example
 * const gateway = await Gateway.start({ config, invoker, gatewayId: 'local', logger, metrics });
 * process.once('SIGTERM', () => void gateway.drain(30_000).then(() => gateway.close()));
 */
export class Gateway {
  private draining = false;
  private readonly newToTag = randomHex(6);

  private constructor(
    private readonly options: GatewayOptions,
    private readonly clock: Clock,
    private readonly transport: TransportLayer<SipMessage>,
    private readonly transactions: TransactionLayer<SipMessage, SipTarget>,
    private readonly registerProxy: RegisterProxy<SipMessage, SipTarget>,
    private readonly router: RequestRouter,
    private readonly pins: BindingConnectionPins,
    /** The sockets actually bound. */
    readonly listening: readonly ListenSpec[],
  ) {}

  /** Opens the listeners and starts serving. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const { config, logger, metrics } = options;
    const clock = options.clock ?? new SystemClock();
    const limits: SipLimits = { maxMessageBytes: config.maxMessageSize, maxHeaderLines: 200, maxLineBytes: 8192 };
    const transport = new TransportLayer<SipMessage>({
      codec: createSipTransportCodec(),
      limits,
      // One clock for both layers: the transport's read for each message is its transaction's creation time too.
      nowMs: () => clock.nowMs(),
      logger,
      metrics,
      ...(options.tcpIdleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.tcpIdleTimeoutMs }),
      ...(options.tcpUnpinGraceMs === undefined ? {} : { unpinGraceMs: options.tcpUnpinGraceMs }),
    });
    const newToTag = randomHex(6);
    const reportEncodedSendError = (error: unknown, transaction: TransactionRef, target: SipTarget): void => {
      logger.warn({ err: error, target }, 'send failed');
      // RFC 3261 §17.2.4: the transaction learns of the late failure.
      transactions.reportTransportError(transaction);
    };
    const transactions: TransactionLayer<SipMessage, SipTarget> = new TransactionLayer<SipMessage, SipTarget>({
      clock,
      codec: createSipTransactionCodec(),
      limits: { inviteServerTuTimeoutMs: config.inviteTimeoutMs + 120_000 },
      timerBucketMs: TRANSACTION_TIMER_BUCKET_MS,
      send: (message, target, transaction) => {
        const sent = message.isRequest ? transport.send(message, target) : transport.sendResponse(message, target as Flow);
        sent.catch((error: unknown) => {
          logger.warn({ err: error, target }, 'send failed');
          // RFC 3261 §17.1.4, §17.2.4: the transaction learns of the late failure (a request's ends with RPL-9 503).
          transactions.reportTransportError(transaction);
        });
      },
      // Final responses are routed and serialized once; a completed transaction keeps only these bytes for its
      // retransmissions until Timer J / H / I (docs/benchmarks.md: the retained transactions drove GC).
      encodeResponse: (response, target) => transport.encodeResponse(response, target as Flow),
      // One error handler for every encoded send, told the transaction by the transport: no closure per response.
      sendEncoded: (encoded, transaction) => transport.sendEncoded(encoded.bytes, encoded.target, reportEncodedSendError, transaction),
      // ERR-1: the layer's own 408, when a TU never answers, is a locally generated error like any other.
      createTuTimeoutResponse: (request) =>
        createResponse(request, 408, 'Request Timeout', { toTag: newToTag(), headers: [['P-Registrar-Error', 'Request Timeout']] }),
      onTuError: (error, transaction) => {
        metrics.increment(GATEWAY_METRICS.tuErrors);
        logger.error({ err: error, method: transaction.request.method, callId: transaction.request.callId() }, 'transaction user callback failed');
      },
    });
    const pins = new BindingConnectionPins({
      clock,
      pin: (connectionId) => transport.pinConnection(connectionId),
      unpin: (connectionId) => transport.unpinConnection(connectionId),
    });
    const registerTransactions = {
      // PTH-4: a 2xx to a REGISTER tells which bindings now use the REGISTER's connection.
      respond: (transaction: Transaction<SipMessage, SipTarget>, response: SipMessage) => {
        const sent = transactions.respond(transaction, response);
        if (sent && response.status >= 200 && response.status < 300) pins.onRegisterOk(transaction.request, response, transaction.target as Flow);
        return sent;
      },
      sendRequest: (...args: Parameters<TransactionLayer<SipMessage, SipTarget>['sendRequest']>) => {
        const [request, target, isReliable, callbacks] = args;
        return transactions.sendRequest(request, target, isReliable, {
          ...callbacks,
          onResponse: (response, transaction) => {
            if (response.status >= 200) countUpstreamReply(metrics, response.status);
            callbacks.onResponse(response, transaction);
          },
        });
      },
    };
    const resolvedHosts = await resolveUpstreamHosts(config, logger);
    // Every relayed REGISTER goes to the configured next hop: parse it once (hot path), anything else per call.
    const configuredHop = config.upstreamOutboundProxy ?? config.upstreamUri;
    let configuredResolved: UpstreamHop<SipTarget> | undefined;
    const resolveUpstream = (nextHop: string): UpstreamHop<SipTarget> => {
      if (nextHop !== configuredHop) return resolveHop(nextHop, resolvedHosts);
      configuredResolved ??= resolveHop(nextHop, resolvedHosts);
      return configuredResolved;
    };
    const registerProxy = new RegisterProxy<SipMessage, SipTarget>({
      invoker: options.invoker,
      transactions: registerTransactions,
      messages: createSipRegisterMessages(config.retryAfterMs, newToTag),
      resolveUpstream,
      clock,
      upstreamTimeoutMs: config.upstreamTimeoutMs,
      retryAfterMs: config.retryAfterMs,
      newBranch: randomHex(8),
      newToTag,
      logger,
      metrics,
    });
    if (config.tokenSecret === undefined) throw new Error('tokenSecret must be set (the local runtime persists a generated one)');
    if (options.internalHop !== undefined && options.gatewayId !== formatGatewayId(options.internalHop)) {
      throw new Error(`gatewayId ${options.gatewayId} must be the internal hop address ${formatGatewayId(options.internalHop)}`);
    }
    const router = new RequestRouter({
      invoker: options.invoker,
      transactions: {
        respond: (transaction, response) => transactions.respond(transaction, response),
        sendRequest: (request, target, isReliable, callbacks) => transactions.sendRequest(request, target, isReliable, callbacks),
        cancel: (invite) => transactions.cancel(invite),
      },
      sendStateless: (message, target) => {
        transport.send(message, target).catch((error: unknown) => logger.warn({ err: error, target }, 'stateless send failed'));
      },
      isFlowUsable: (flow) => flow.transport === 'udp' || flow.connectionId === undefined || transport.isConnectionOpen(flow.connectionId),
      resolveNextHop: (nextHop) => {
        try {
          return resolveUpstream(nextHop).target as Destination;
        } catch {
          return undefined;
        }
      },
      clock,
      gatewayId: options.gatewayId,
      advertisedUri: config.advertisedUri,
      upstreamNextHop: config.upstreamOutboundProxy ?? config.upstreamUri,
      tokenSecret: config.tokenSecret,
      inviteTimeoutMs: config.inviteTimeoutMs,
      retryAfterMs: config.retryAfterMs,
      newBranch: randomHex(8),
      newToTag,
      ...(options.internalHop === undefined ? {} : { internalHop: options.internalHop }),
      logger,
      metrics,
    });
    const specs = config.listen.map((socket) => `${socket.transport}:${socket.host}:${socket.port}`);
    // Appended, so the first UDP socket stays the advertised one (FWD-9).
    if (options.internalHop !== undefined) specs.push(`tcp:${formatGatewayId(options.internalHop)}`, `udp:${formatGatewayId(options.internalHop)}`);
    let listening: ListenSpec[];
    try {
      listening = await transport.listen(specs);
    } catch (error) {
      await transport.close();
      throw error;
    }
    const gateway = new Gateway(options, clock, transport, transactions, registerProxy, router, pins, listening);
    transport.onMessage((message, flow, receivedAtMs) => gateway.receive(message, flow, receivedAtMs));
    return gateway;
  }

  /**
   * The gateway's sockets lent to the mid-registrar's own requests (De-REGISTERs, proactive refreshes),
   * so they leave from `advertisedUri` (FWD-9): the local sweep's upstream channel.
   */
  upstreamChannel(): {
    sentBy(transport: TransportProtocol): { host: string; port: number };
    sendRequest(request: SipMessage, target: Destination, callbacks: ClientTransactionCallbacks<SipMessage, Destination>): void;
    close(): Promise<void>;
  } {
    const advertised = parseUri(this.options.config.advertisedUri);
    return {
      sentBy: (transport) => {
        const socket = this.listening.find((s) => s.transport === transport) ?? this.listening[0];
        return { host: advertised.host, port: socket?.port ?? advertised.port ?? 5060 };
      },
      sendRequest: (request, target, callbacks) => {
        this.transactions.sendRequest(request, target, target.transport !== 'udp', callbacks as ClientTransactionCallbacks<SipMessage, SipTarget>);
      },
      // Lent sockets close with the gateway.
      close: () => Promise.resolve(),
    };
  }

  /** Requests whose final response is still to come. */
  get inFlight(): number {
    return this.registerProxy.pendingCount + this.router.pendingCount;
  }

  /** True once {@link drain} was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops taking new requests (they get 503 + Retry-After) and resolves once every in-flight request
   * has its final response, or after `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.options.invoker.drain();
  }

  /** Closes every socket. */
  async close(): Promise<void> {
    this.pins.clear();
    await this.transport.close();
    // Transactions still waiting (Timer K, J…) have nothing left to send on.
    this.transactions.close();
    if (this.clock instanceof SystemClock) this.clock.clearAll();
  }

  private receive(message: SipMessage, flow: Flow, receivedAtMs: number): void {
    if (!message.isRequest) {
      if (this.transactions.receiveResponse(message).kind === 'stateless') this.router.handleStatelessResponse(message);
      return;
    }
    const hop = this.options.internalHop;
    if (hop !== undefined && flow.transport !== 'tls' && flow.localPort === hop.port && flow.localAddress === hop.address) {
      this.receiveHop(message, flow);
      return;
    }
    const result = this.transactions.receiveRequest(message, flow, flow.transport !== 'udp', receivedAtMs);
    if (result.kind === 'stateless') {
      this.router.handleStatelessAck(message, flow);
      return;
    }
    if (result.kind !== 'new') return;
    const transaction = result.transaction;
    if (message.method === 'CANCEL') {
      this.router.handleCancel(transaction, result.cancels);
      return;
    }
    if (this.draining) {
      const busy = registrarErrorResponse(REGISTRAR_ERRORS.serviceUnavailable, this.options.config.retryAfterMs, this.newToTag());
      this.transactions.respond(transaction, createResponse(message, busy.status, busy.reason, { toTag: busy.toTag, headers: busy.headers }));
      return;
    }
    const contractFlow = this.toContractFlow(flow);
    // GEN-2: the decision's `now` is when the first transmission arrived (`receivedAtMs`, the transport's read).
    if (message.method === 'REGISTER') {
      void this.registerProxy.handle(transaction, contractFlow, receivedAtMs);
      return;
    }
    void this.router.handleRequest(transaction, flow, receivedAtMs);
  }

  /**
   * A request on the internal hop port (DESIGN §5): only hop tokens route it (the router answers 403
   * without one); a CANCEL matches the hopped INVITE's transaction. Served while draining too: the
   * device flows are held here.
   */
  private receiveHop(message: SipMessage, flow: Flow): void {
    const result = this.transactions.receiveRequest(message, flow, flow.transport !== 'udp');
    if (result.kind === 'stateless') {
      this.router.handleHopAck(message);
      return;
    }
    if (result.kind !== 'new') return;
    if (message.method === 'CANCEL') {
      this.router.handleCancel(result.transaction, result.cancels);
      return;
    }
    this.router.handleHopRequest(result.transaction);
  }

  /** The flow as the decision contract records it; built field by field (one per request: spread was slower). */
  private toContractFlow(flow: Flow): ContractFlow {
    const contractFlow: ContractFlow = {
      transport: flow.transport,
      remoteAddress: flow.remoteAddress,
      remotePort: flow.remotePort,
      localAddress: flow.localAddress,
      localPort: flow.localPort,
      gatewayId: this.options.gatewayId,
    };
    if (flow.connectionId !== undefined) contractFlow.connectionId = flow.connectionId;
    return contractFlow;
  }
}

/** Counts a final upstream reply to a relayed REGISTER, in total and per status class. */
function countUpstreamReply(metrics: MetricsRegistry, status: number): void {
  metrics.increment(GATEWAY_METRICS.upstreamReplies);
  metrics.increment(`${GATEWAY_METRICS.upstreamRepliesPrefix}${Math.floor(status / 100)}xx`);
}

/**
 * Resolves the host name of the upstream next hop (`upstreamOutboundProxy`, else `upstreamUri`) once, at
 * start. A name that does not resolve is logged; relays then fail with 503 (RPL-9) until a restart.
 */
async function resolveUpstreamHosts(config: MidRegistrarConfig, logger: Logger): Promise<Map<string, string>> {
  const hosts = new Map<string, string>();
  const { host } = parseHop(config.upstreamOutboundProxy ?? config.upstreamUri);
  if (isIP(host) !== 0) return hosts;
  try {
    hosts.set(host, (await dnsLookup(host)).address);
  } catch (error) {
    logger.error({ err: error, host }, 'upstream host does not resolve');
  }
  return hosts;
}

function parseHop(nextHop: string): { host: string; port: number; transport: TransportProtocol } {
  const uri = parseUri(/^sips?:/i.test(nextHop) ? nextHop : `sip:${nextHop}`);
  const param = uri.params.find((p) => p.name.toLowerCase() === 'transport')?.value?.toLowerCase();
  const transport: TransportProtocol = uri.scheme === 'sips' ? 'tls' : param === 'tcp' || param === 'tls' ? param : 'udp';
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  return { host, port: uri.port ?? (transport === 'tls' ? 5061 : 5060), transport };
}

/** The destination of a relay (FWD-1: `upstreamOutboundProxy`, else the Request-URI). */
function resolveHop(nextHop: string, resolvedHosts: ReadonlyMap<string, string>): UpstreamHop<SipTarget> {
  const { host, port, transport } = parseHop(nextHop);
  const address = isIP(host) !== 0 ? host : resolvedHosts.get(host);
  if (address === undefined) throw new Error(`next hop ${nextHop} is not resolved`);
  return { target: { transport, address, port }, isReliable: transport !== 'udp', viaTransport: transport.toUpperCase() };
}
