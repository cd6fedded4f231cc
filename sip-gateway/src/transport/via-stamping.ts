/**
 * Server-side Via handling of a received request (RFC 3261 §18.2.1, RFC 3581 §4) and the choice of
 * where its responses go (RFC 3261 §18.2.2, RFC 3581 §4). Pure: text in, text out.
 */
import { formatVia, parseVia, type Via } from '../sip/via';
import { defaultPort, isReliable, type Destination, type Flow, type TransportProtocol } from './flow';
import { findParam, type HeaderParam } from '../sip/header-params';

function setParam(params: HeaderParam[], name: string, value: string): HeaderParam[] {
  const lower = name.toLowerCase();
  const index = params.findIndex((param) => param.name.toLowerCase() === lower);
  if (index < 0) return [...params, { name, value }];
  const copy = [...params];
  copy[index] = { name: params[index]!.name, value };
  return copy;
}

function stamp(via: Via, sourceAddress: string, sourcePort: number): Via {
  let params = setParam(via.params, 'received', sourceAddress);
  let rport = via.rport;
  if (rport !== undefined) {
    // RFC 3581 §4: "the server MUST insert ... the source port number of the request" into rport.
    params = setParam(params, 'rport', String(sourcePort));
    rport = sourcePort;
  }
  // The first `received` and `rport` are the ones set, as parseVia reads them back.
  return { ...via, params, received: sourceAddress, rport };
}

/** A request's stamped top Via value and the route of its responses, both from one parse. */
export interface StampedVia {
  /** The top Via value with `received` and `rport` set. */
  readonly value: string;
  /** What {@link chooseResponseRoute} returns for `value` and the request's flow. */
  readonly route: ResponseRoute;
}

/**
 * Stamps the (parsed) top Via of a received request with where it really came from, and gives the route
 * of its responses with it: a response carries its request's stamped Via (RFC 3261 §8.2.6.2), so the
 * transport can route it without parsing that Via again. `via` is not modified.
 *
 * SPEC PTH-1 applies RFC 3581 to every request: `received` is always set to the source address
 * (RFC 3581 §4 requires it whenever rport is present; RFC 3261 §18.2.1 when sent-by differs — we
 * always add it so the stored source is explicit), and an `rport` parameter (with or without value)
 * gets the source port as its value.
 *
 * @example
 * stampParsedTopVia(parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport'), flowFrom192_0_2_7_40000).value;
 * // 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7'
 */
export function stampParsedTopVia(via: Via, requestFlow: Flow): StampedVia {
  const stamped = stamp(via, requestFlow.remoteAddress, requestFlow.remotePort);
  return { value: formatVia(stamped), route: routeOf(stamped, requestFlow) };
}

function viaTransport(via: Via): TransportProtocol | undefined {
  const transport = via.transport.toLowerCase();
  return transport === 'udp' || transport === 'tcp' || transport === 'tls' ? transport : undefined;
}

/** Where to send a response: the request's connection first, else an address (RFC 3261 §18.2.2). */
export interface ResponseRoute {
  /** Reliable transports: the connection the request came on, to be tried first. */
  connectionId?: string;
  /** UDP: the only target. TCP/TLS: where to connect when the request's connection is gone. */
  destination: Destination;
}

/**
 * Chooses where the responses to a request go, from its (stamped) top Via and its flow.
 *
 * RFC 3261 §18.2.2: over a reliable transport the response goes over the connection the request came
 * on, and if that is gone, to `received` (or sent-by) and the sent-by port. Over UDP: to `maddr` when
 * present; else RFC 3581 §4: to `received` and the `rport` value when rport is present; else to
 * `received` and the sent-by port; else to sent-by.
 *
 * @throws SipParseError when the Via value is malformed.
 */
export function chooseResponseRoute(topViaValue: string, requestFlow: Flow): ResponseRoute {
  return routeOf(parseVia(topViaValue), requestFlow);
}

function routeOf(via: Via, requestFlow: Flow): ResponseRoute {
  const transport = requestFlow.transport;
  const received = via.received ?? via.host.replace(/^\[(.*)\]$/, '$1');
  const sentByPort = via.port ?? defaultPort(viaTransport(via) ?? transport);
  if (isReliable(transport)) {
    // The rport value is the peer's ephemeral source port of a connection that is gone; a new
    // connection goes to the sent-by port, where the peer listens.
    return {
      connectionId: requestFlow.connectionId,
      destination: { transport, address: received, port: sentByPort },
    };
  }
  const maddr = findParam(via.params, 'maddr');
  if (typeof maddr === 'string' && maddr.length > 0) {
    // RFC 3261 §18.2.2: "the response MUST be forwarded to the address listed there, using the port
    // indicated in sent-by, or port 5060 if none is present".
    return { destination: { transport, address: maddr, port: via.port ?? 5060 } };
  }
  if (typeof via.rport === 'number') {
    return { destination: { transport, address: received, port: via.rport } };
  }
  return { destination: { transport, address: received, port: sentByPort } };
}
