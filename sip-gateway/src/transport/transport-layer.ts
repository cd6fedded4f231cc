/**
 * The gateway's transport layer (RFC 3261 §18): UDP and TCP listeners behind one interface.
 * Inbound: flood limits, framing and parsing, 400/513 answers or drops for bad input (SPEC ERR-3,
 * ERR-4), RFC 3581 Via stamping of requests (PTH-1), CRLF keep-alive answers (PTH-4). Outbound: the
 * flow's socket or connection (PTH-3), §18.2.2 response routing, connect on demand.
 */
import { SipParseError } from '../sip/errors';
import type { SipLimits } from '../sip/limits';
import type { Via } from '../sip/via';
import type { Logger } from '../observability/logger';
import type { MetricsRegistry } from '../observability/metrics-registry';
import { TransportSendError } from './errors';
import { FloodLimiter, type FloodLimiterOptions } from './flood-limiter';
import { isReliable, ListenSpecError, parseListenSpec, type Destination, type Flow, type ListenSpec } from './flow';
import { buildStatelessErrorResponse } from './stateless-error-response';
import { TcpEndpoint, type StreamFramerPort, type TlsSettings } from './tcp-endpoint';
import { UdpEndpoint, udpSendError } from './udp-endpoint';
import { chooseResponseRoute, stampedResponseRoute, stampParsedTopVia, type ResponseRoute } from './via-stamping';

/** What a stream framer reports for one connection. */
export type InboundEvent<M> =
  | { kind: 'message'; message: M }
  /** The bytes of one message were not valid SIP; `fatal` when the stream cannot be resynchronized. */
  | { kind: 'malformed'; error: unknown; fatal: boolean }
  /** RFC 5626 §3.5.1 double-CRLF ping. */
  | { kind: 'keepalive-ping' };

/** What the transport layer needs from the SIP codec. */
export interface TransportCodec<M> {
  /** Parses one UDP datagram; throws SipParseError for invalid or oversized input. */
  parseDatagram(datagram: Buffer, limits: SipLimits): M;
  /** A framer for one TCP connection. */
  createStreamFramer(limits: SipLimits): StreamFramerPort<InboundEvent<M>>;
  serialize(message: M): Buffer;
  isRequest(message: M): boolean;
  /** The raw top Via value, or undefined when the message has none. */
  topVia(message: M): string | undefined;
  /**
   * The top Via value parsed (the parse that validating the message already did, when the codec keeps it), or
   * undefined when the message has none. Throws SipParseError when it is malformed.
   */
  parsedTopVia(message: M): Via | undefined;
  /** Replaces the top Via value in place. */
  setTopVia(message: M, value: string): void;
}

/**
 * Receives each accepted message with the flow it came on and when it arrived (the transport's clock read for
 * the message, which the layers above reuse instead of reading the clock again).
 */
export type MessageHandler<M> = (message: M, flow: Flow, receivedAtMs: number) => void;

/** Options for {@link TransportLayer}. */
export interface TransportLayerOptions<M> {
  codec: TransportCodec<M>;
  limits: SipLimits;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Wall clock for activity and flood accounting. Default Date.now. */
  nowMs?: () => number;
  /** Unpinned TCP connections idle this long are closed. Default 300 s. */
  idleTimeoutMs?: number;
  /** SPEC PTH-4: a connection stays at least this long after its last binding ends. Default 10 s. */
  unpinGraceMs?: number;
  /** Bound on opening a TCP connection. Default 5 s. */
  connectTimeoutMs?: number;
  /** TCP connections per listener at most. Default 10000. */
  maxConnections?: number;
  /**
   * Messages per second per source IP (all transports). Default {@link DEFAULT_FLOOD_PER_SOURCE}: a registrar
   * front-end sees whole NAT'd sites and SBCs behind one address, so the bucket is sized for thousands per
   * second; it still stops one source from taking the whole gateway.
   */
  floodPerSource?: FloodLimiterOptions;
  /**
   * SO_RCVBUF asked for on UDP listeners, in bytes. Default 4 MiB (Linux caps it at `net.core.rmem_max`;
   * the granted size is logged once per listener). Datagrams arriving during an event-loop pause wait here.
   */
  udpRecvBufferBytes?: number;
  /** SO_SNDBUF asked for on UDP listeners, in bytes. Default 1 MiB (capped at `net.core.wmem_max`). */
  udpSendBufferBytes?: number;
  /** Key and certificate; required for `tls:` listen specs (TLS is optional, RFC 3261 §26.2.1). */
  tls?: TlsSettings;
  /** Messages per second per TCP connection. Default 200/s, burst 400. */
  floodPerConnection?: FloodLimiterOptions;
}

/** Metric names the transport layer counts. */
export const TRANSPORT_METRICS = {
  malformed: 'malformed_messages',
  oversize: 'oversize_messages',
  floodLimited: 'flood_limited_messages',
  dropped: 'dropped_messages',
  received: 'received_messages',
  sent: 'sent_messages',
  sendErrors: 'send_errors',
  keepalives: 'keepalives_answered',
  connectionsOpened: 'connections_opened',
  connectionsClosed: 'connections_closed',
  handlerErrors: 'handler_errors',
} as const;

/** Default per-source flood limit: 5,000 messages/s sustained, bursts of 10,000. */
export const DEFAULT_FLOOD_PER_SOURCE: FloodLimiterOptions = Object.freeze({ ratePerSec: 5_000, burst: 10_000 });

/** Default UDP socket buffer requests, in bytes. */
export const DEFAULT_UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
export const DEFAULT_UDP_SEND_BUFFER_BYTES = 1024 * 1024;

/** A response serialized once with the flow it goes out on (RFC 3261 §18.2.2), ready for {@link TransportLayer.send}. */
export interface EncodedResponse {
  readonly bytes: Buffer;
  /** The flow the response goes out on. */
  readonly target: Flow;
}

const CRLF = Buffer.from('\r\n');

/** A request's stamped top Via value and the route of its responses (see `stampedVias`). */
interface StampedVia {
  readonly value: string;
  readonly route: ResponseRoute;
}

function isOnlyWhitespace(datagram: Buffer): boolean {
  for (let index = 0; index < datagram.length; index++) {
    const byte = datagram[index];
    if (byte !== 13 && byte !== 10 && byte !== 32 && byte !== 9) return false;
  }
  return true;
}

/** Raw bytes as a Buffer (sharing memory), or undefined for a message. */
function toBuffer(data: unknown): Buffer | undefined {
  if (Buffer.isBuffer(data)) return data;
  return data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : undefined;
}

/**
 * UDP and TCP listeners with one message handler.
 *
 * @example
 * const transport = new TransportLayer({ codec: sipTransportCodec, limits: DEFAULT_SIP_LIMITS, logger, metrics });
 * await transport.listen(['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060']);
 * transport.onMessage((message, flow) => transactions.receiveRequest(message, flow, flow.transport !== 'udp'));
 * await transport.sendResponse(response, requestFlow);
 */
export class TransportLayer<M> {
  private readonly udp: UdpEndpoint[] = [];
  private readonly tcp: Array<TcpEndpoint<InboundEvent<M>>> = [];
  private readonly handlers: Array<MessageHandler<M>> = [];
  private readonly perSource: FloodLimiter;
  private readonly perConnection: FloodLimiter;
  private readonly nowMs: () => number;
  /**
   * The stamped top Via of each accepted request whose final response is not encoded yet, by its flow object, with
   * its response route: {@link encodeResponse} then skips parsing the response's Via (~1.5 µs per response). Weak, so
   * an unanswered request's entry goes with its flow. A request answered at its own UDP source (RFC 3581 §4, the
   * usual case) keeps only the value string: its route is the flow, so no route or pair object is made for it.
   */
  private readonly stampedVias = new WeakMap<Flow, string | StampedVia>();

  constructor(private readonly options: TransportLayerOptions<M>) {
    this.nowMs = options.nowMs ?? (() => Date.now());
    this.perSource = new FloodLimiter(options.floodPerSource ?? DEFAULT_FLOOD_PER_SOURCE);
    this.perConnection = new FloodLimiter(options.floodPerConnection ?? { ratePerSec: 200, burst: 400 });
  }

  /**
   * Opens every listen spec (`udp:host:port`, `tcp:host:port`, `tls:host:port`; port 0 picks a free
   * port). Resolves with the sockets actually bound. A `tls:` spec without the `tls` option fails
   * naming the spec.
   */
  async listen(specs: readonly string[]): Promise<ListenSpec[]> {
    const bound: ListenSpec[] = [];
    for (const text of specs) {
      const spec = parseListenSpec(text);
      if (spec.transport === 'udp') {
        const endpoint = await UdpEndpoint.bind(
          spec.host,
          spec.port,
          (datagram, flow) => this.receiveDatagram(datagram, flow),
          (error) => this.reportSocketError(error),
          {
            recvBufferBytes: this.options.udpRecvBufferBytes ?? DEFAULT_UDP_RECV_BUFFER_BYTES,
            sendBufferBytes: this.options.udpSendBufferBytes ?? DEFAULT_UDP_SEND_BUFFER_BYTES,
          },
        );
        this.options.logger?.info(
          { listen: `udp:${endpoint.localAddress}:${endpoint.localPort}`, recvBufferBytes: endpoint.recvBufferBytes, sendBufferBytes: endpoint.sendBufferBytes },
          'udp socket buffers granted',
        );
        this.udp.push(endpoint);
        bound.push({ transport: 'udp', host: endpoint.localAddress, port: endpoint.localPort });
      } else {
        if (spec.transport === 'tls' && !this.options.tls) {
          throw new ListenSpecError(`listen spec "${text}": tls needs a key and certificate (option tls)`);
        }
        const endpoint = await TcpEndpoint.listen<InboundEvent<M>>({
          transport: spec.transport,
          tlsSettings: this.options.tls,
          host: spec.host,
          port: spec.port,
          createFramer: () => this.options.codec.createStreamFramer(this.options.limits),
          onEvents: (events, flow) => this.receiveStreamEvents(events, flow),
          onConnection: (change, flow) => this.connectionChanged(change, flow),
          onError: (error) => this.reportSocketError(error),
          nowMs: this.nowMs,
          idleTimeoutMs: this.options.idleTimeoutMs ?? 300_000,
          unpinGraceMs: this.options.unpinGraceMs ?? 10_000,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 5_000,
          maxConnections: this.options.maxConnections ?? 10_000,
          idPrefix: `${spec.transport === 'tls' ? 's' : 't'}${this.tcp.length}-`,
        });
        this.tcp.push(endpoint);
        bound.push({ transport: spec.transport, host: endpoint.localAddress, port: endpoint.localPort });
      }
    }
    return bound;
  }

  /** Registers the handler of accepted messages (requests already Via-stamped). */
  onMessage(handler: MessageHandler<M>): void {
    this.handlers.push(handler);
  }

  /**
   * Sends a message or raw bytes. To a flow: UDP from the flow's local socket to its remote address;
   * TCP over the flow's connection, or a new connection to its remote address when that one is gone
   * (SPEC PTH-3). To a destination: UDP from the first UDP listener (the advertised socket, FWD-9);
   * TCP over an open connection to that peer or a new one. Resolves with the flow actually used.
   *
   * @throws TransportSendError when no socket can carry it.
   */
  async send(data: Uint8Array | M, target: Flow | Destination): Promise<Flow> {
    const bytes = toBuffer(data) ?? this.options.codec.serialize(data as M);
    try {
      const flow = 'remoteAddress' in target ? await this.sendOnFlow(bytes, target) : await this.sendToDestination(bytes, target);
      this.options.metrics?.increment(TRANSPORT_METRICS.sent);
      return flow;
    } catch (error) {
      this.options.metrics?.increment(TRANSPORT_METRICS.sendErrors);
      throw error;
    }
  }

  /**
   * Sends an encoded response (bytes and target from {@link encodeResponse}) without a promise: a UDP response goes straight to its
   * socket (the absorbed-REGISTER path: saves the promise chain and its microtask hops per response), anything else
   * through {@link send}. `onError` is called once, later, when it could not be sent, with `context` and `target`:
   * the caller passes one function for all its sends and what the send is for (its transaction, RFC 3261 §17.2.4)
   * as `context`, instead of a closure per send capturing both.
   */
  sendEncoded<C>(
    bytes: Uint8Array,
    target: Flow | Destination,
    onError: (error: unknown, context: C, target: Flow | Destination) => void,
    context: C,
  ): void {
    const endpoint = target.transport === 'udp' && 'remoteAddress' in target ? this.udpEndpointFor(target) : undefined;
    if (endpoint === undefined) {
      this.send(bytes, target).catch((error: unknown) => onError(error, context, target));
      return;
    }
    const flow = target as Flow;
    // The one closure of this send, handed to the socket as its callback.
    endpoint.sendDatagram(bytes, flow.remoteAddress, flow.remotePort, (error) => {
      if (!error) {
        this.options.metrics?.increment(TRANSPORT_METRICS.sent);
        return;
      }
      this.options.metrics?.increment(TRANSPORT_METRICS.sendErrors);
      onError(udpSendError(error, flow.remoteAddress, flow.remotePort), context, flow);
    });
  }

  /**
   * Sends a response to a request that came on `requestFlow` (RFC 3261 §18.2.2, RFC 3581 §4): over
   * TCP the request's connection, else a new one to received:sent-by-port; over UDP from the socket
   * the request came on, to received:rport (or received / sent-by and the sent-by port).
   */
  async sendResponse(response: M, requestFlow: Flow): Promise<Flow> {
    const encoded = this.encodeResponse(response, requestFlow);
    return this.send(encoded.bytes, encoded.target);
  }

  /**
   * Routes and serializes a response once (what {@link sendResponse} sends), so a transaction can keep only
   * the bytes and the flow for its retransmissions (RFC 3261 §17.2.1, §17.2.2) and re-send them with
   * {@link send}.
   *
   * @throws TransportSendError when the response has no Via.
   */
  encodeResponse(response: M, requestFlow: Flow): EncodedResponse {
    const topVia = this.options.codec.topVia(response);
    if (topVia === undefined) throw new TransportSendError('response without Via cannot be routed');
    const stamped = this.stampedVias.get(requestFlow);
    let route: ResponseRoute | undefined;
    if (stamped === topVia) {
      // Stamped at its UDP source: answered there (see stampedVias). A request has one final response, encoded
      // once; any later one (rare) is routed from its own Via.
      this.stampedVias.delete(requestFlow);
      return { bytes: this.options.codec.serialize(response), target: requestFlow };
    }
    if (typeof stamped === 'object' && stamped.value === topVia) {
      route = stamped.route;
      this.stampedVias.delete(requestFlow);
    } else {
      route = chooseResponseRoute(topVia, requestFlow);
    }
    const bytes = this.options.codec.serialize(response);
    if (isReliable(requestFlow.transport) && route.connectionId !== undefined && this.tcpOwning(route.connectionId)) {
      return { bytes, target: { ...requestFlow, connectionId: route.connectionId } };
    }
    const { address, port } = route.destination;
    if (requestFlow.transport === 'udp' && address === requestFlow.remoteAddress && port === requestFlow.remotePort) {
      // RFC 3581 §4: the usual case, the response goes back to the request's source: reuse the flow object.
      return { bytes, target: requestFlow };
    }
    return { bytes, target: { ...requestFlow, remoteAddress: address, remotePort: port, connectionId: undefined } };
  }

  /**
   * SPEC PTH-4: a valid binding uses this TCP connection, so it is not closed for idleness. Returns
   * false when the connection is already gone.
   */
  pinConnection(connectionId: string): boolean {
    return this.tcpOwning(connectionId)?.pin(connectionId) ?? false;
  }

  /** The binding that pinned this connection ended or moved. */
  unpinConnection(connectionId: string): void {
    this.tcpOwning(connectionId)?.unpin(connectionId);
  }

  /** True when the TCP connection of a flow is still open. */
  isConnectionOpen(connectionId: string): boolean {
    return this.tcpOwning(connectionId) !== undefined;
  }

  /** Open TCP connections. */
  get connectionCount(): number {
    return this.tcp.reduce((sum, endpoint) => sum + endpoint.connectionCount, 0);
  }

  /** Stops listening and closes every connection; in-flight writes complete first. */
  async close(): Promise<void> {
    await Promise.all([...this.udp.map((endpoint) => endpoint.close()), ...this.tcp.map((endpoint) => endpoint.close())]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }

  private tcpOwning(connectionId: string): TcpEndpoint<InboundEvent<M>> | undefined {
    return this.tcp.find((endpoint) => endpoint.has(connectionId));
  }

  /** The UDP socket a flow goes out on: its own local socket, else the first (advertised) one. */
  private udpEndpointFor(flow: Flow): UdpEndpoint | undefined {
    for (const candidate of this.udp) {
      if (candidate.localPort === flow.localPort && candidate.localAddress === flow.localAddress) return candidate;
    }
    return this.udp[0];
  }

  private async sendOnFlow(bytes: Buffer, flow: Flow): Promise<Flow> {
    if (flow.transport === 'udp') {
      const endpoint = this.udpEndpointFor(flow);
      if (!endpoint) throw new TransportSendError('no udp listener');
      await endpoint.send(bytes, flow.remoteAddress, flow.remotePort);
      if (endpoint.localPort === flow.localPort && endpoint.localAddress === flow.localAddress && flow.connectionId === undefined) return flow;
      return { transport: 'udp', localAddress: endpoint.localAddress, localPort: endpoint.localPort, remoteAddress: flow.remoteAddress, remotePort: flow.remotePort };
    }
    if (flow.connectionId !== undefined) {
      const owner = this.tcpOwning(flow.connectionId);
      if (owner && owner.transport === flow.transport) return owner.write(flow.connectionId, bytes);
    }
    const sameTransport = this.tcp.filter((candidate) => candidate.transport === flow.transport);
    const endpoint = sameTransport.find((candidate) => candidate.localPort === flow.localPort) ?? sameTransport[0];
    if (!endpoint) throw new TransportSendError(`no ${flow.transport} listener`);
    return endpoint.writeToPeer(flow.remoteAddress, flow.remotePort, bytes);
  }

  private sendToDestination(bytes: Buffer, destination: Destination): Promise<Flow> {
    const local = destination.transport === 'udp' ? this.udp[0] : this.tcp.find((candidate) => candidate.transport === destination.transport);
    if (!local) return Promise.reject(new TransportSendError(`no ${destination.transport} listener`));
    return this.sendOnFlow(bytes, {
      transport: destination.transport,
      localAddress: local.localAddress,
      localPort: local.localPort,
      remoteAddress: destination.address,
      remotePort: destination.port,
    });
  }

  private receiveDatagram(datagram: Buffer, flow: Flow): void {
    // RFC 5626 §4.4.1: UDP keep-alives are STUN; a stray CRLF datagram is ignored, not malformed.
    if (isOnlyWhitespace(datagram)) return;
    const nowMs = this.nowMs();
    if (!this.perSource.allow(flow.remoteAddress, nowMs)) {
      this.options.metrics?.increment(TRANSPORT_METRICS.floodLimited);
      return;
    }
    let message: M;
    try {
      message = this.options.codec.parseDatagram(datagram, this.options.limits);
    } catch (error) {
      this.rejectMalformed(error, flow);
      return;
    }
    this.accept(message, flow, nowMs);
  }

  private receiveStreamEvents(events: Array<InboundEvent<M>>, flow: Flow): void {
    for (const event of events) {
      const nowMs = this.nowMs();
      if (event.kind === 'keepalive-ping') {
        // Pings count against the connection only: a device behind a shared NAT address must not
        // lose messages because its neighbours keep their flows alive.
        if (!this.perConnection.allow(flow.connectionId ?? '', nowMs)) {
          this.options.metrics?.increment(TRANSPORT_METRICS.floodLimited);
          continue;
        }
        // RFC 5626 §3.5.1: answer a double-CRLF ping with a single CRLF pong (SPEC PTH-4).
        this.options.metrics?.increment(TRANSPORT_METRICS.keepalives);
        this.send(CRLF, flow).catch((error: unknown) => this.reportSendError(error, flow));
        continue;
      }
      if (!this.perSource.allow(flow.remoteAddress, nowMs) || !this.perConnection.allow(flow.connectionId ?? '', nowMs)) {
        this.options.metrics?.increment(TRANSPORT_METRICS.floodLimited);
        continue;
      }
      if (event.kind === 'malformed') {
        this.rejectMalformed(event.error, flow, event.fatal);
        if (event.fatal) return;
        continue;
      }
      this.accept(event.message, flow, nowMs);
    }
  }

  private accept(message: M, flow: Flow, receivedAtMs: number): void {
    const codec = this.options.codec;
    try {
      if (codec.isRequest(message)) {
        const topVia = codec.parsedTopVia(message);
        if (topVia === undefined) {
          this.drop('request without Via', flow);
          return;
        }
        const value = stampParsedTopVia(topVia, flow);
        const route = stampedResponseRoute(topVia, flow);
        codec.setTopVia(message, value);
        this.stampedVias.set(flow, route === undefined ? value : { value, route });
      }
    } catch (error) {
      // A Via list that splits badly (e.g. an unbalanced quote in a lower Via) is still bad input.
      this.rejectMalformed(error, flow);
      return;
    }
    this.options.metrics?.increment(TRANSPORT_METRICS.received);
    for (const handler of this.handlers) {
      try {
        handler(message, flow, receivedAtMs);
      } catch (error) {
        // SPEC ERR-3: no input may stop the process; the handler's failure is its own to answer.
        this.options.metrics?.increment(TRANSPORT_METRICS.handlerErrors);
        this.options.logger?.error({ err: error, flow }, 'message handler failed');
      }
    }
  }

  /** SPEC ERR-3/ERR-4: answer 400/513 when the error carries what is needed, else drop; always count. */
  private rejectMalformed(error: unknown, flow: Flow, closeAfter = false): void {
    const metrics = this.options.metrics;
    metrics?.increment(TRANSPORT_METRICS.malformed);
    const parseError = error instanceof SipParseError ? error : undefined;
    if (parseError?.statusCode === 513) metrics?.increment(TRANSPORT_METRICS.oversize);
    const reply = parseError ? buildStatelessErrorResponse(parseError) : undefined;
    this.options.logger?.warn(
      { flow, reason: parseError?.reason ?? String(error), code: parseError?.code, answered: reply !== undefined },
      reply ? 'malformed message answered' : 'malformed message dropped',
    );
    const close = (): void => {
      if (closeAfter && flow.connectionId !== undefined) this.tcpOwning(flow.connectionId)?.destroy(flow.connectionId);
    };
    if (!reply) {
      metrics?.increment(TRANSPORT_METRICS.dropped);
      close();
      return;
    }
    // The answer goes straight back where the bytes came from: the Via of a broken message is not
    // trusted as a destination.
    this.send(reply, flow)
      .catch((sendError: unknown) => this.reportSendError(sendError, flow))
      .finally(close);
  }

  private drop(reason: string, flow: Flow): void {
    this.options.metrics?.increment(TRANSPORT_METRICS.dropped);
    this.options.logger?.warn({ flow, reason }, 'message dropped');
  }

  private connectionChanged(change: 'opened' | 'closed', flow: Flow): void {
    this.options.metrics?.increment(change === 'opened' ? TRANSPORT_METRICS.connectionsOpened : TRANSPORT_METRICS.connectionsClosed);
    if (change === 'closed' && flow.connectionId !== undefined) this.perConnection.forget(flow.connectionId);
    this.options.logger?.debug({ flow }, `connection ${change}`);
  }

  private reportSendError(error: unknown, flow: Flow): void {
    this.options.logger?.warn({ err: error, flow }, 'send failed');
  }

  private reportSocketError(error: Error): void {
    this.options.logger?.error({ err: error }, 'socket error');
  }
}

