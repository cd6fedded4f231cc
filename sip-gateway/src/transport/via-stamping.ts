/**
 * Server-side Via handling of a received request (RFC 3261 §18.2.1, RFC 3581 §4) and the choice of
 * where its responses go (RFC 3261 §18.2.2, RFC 3581 §4). Pure: text in, text out.
 */
import { equalsLower } from '../sip/chars';
import { parseVia, type Via } from '../sip/via';
import { defaultPort, isReliable, type Destination, type Flow, type TransportProtocol } from './flow';
import { findParam, type HeaderParam } from '../sip/header-params';

/**
 * The pieces of the value being stamped, reused: stamping is synchronous and calls nothing that could stamp, and a
 * fresh array each time was ~200 bytes per request.
 */
const STAMP_PARTS: string[] = [];

/** The index of the first parameter named `lower` (case-insensitive), or -1. */
function paramIndex(params: readonly HeaderParam[], lower: string): number {
  for (let index = 0; index < params.length; index += 1) if (equalsLower(params[index]!.name, lower)) return index;
  return -1;
}

/**
 * Stamps the (parsed) top Via of a received request with where it really came from and returns the new value:
 * `via` formatted with its first `received` parameter set to the source address (appended when absent) and its
 * first `rport` parameter, if any, set to the source port. `via` is not modified.
 *
 * SPEC PTH-1 applies RFC 3581 to every request: `received` is always set to the source address
 * (RFC 3581 §4 requires it whenever rport is present; RFC 3261 §18.2.1 when sent-by differs — we
 * always add it so the stored source is explicit), and an `rport` parameter (with or without value)
 * gets the source port as its value (RFC 3581 §4: "the server MUST insert ... the source port number of the
 * request").
 *
 * The pieces go into one array joined once, so the value is one flat string: copying the parameter list twice,
 * spreading the Via and formatting it with `+` (a rope of cons strings the serializer flattens again) cost
 * ~1.2 KB per request, this ~250 bytes (absorb-path micro-benchmark).
 *
 * @example
 * stampParsedTopVia(parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport'), flowFrom192_0_2_7_40000);
 * // 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7'
 */
export function stampParsedTopVia(via: Via, requestFlow: Flow): string {
  const params = via.params;
  const receivedAt = paramIndex(params, 'received');
  // parseVia sets `rport` from the first rport parameter, so it is defined exactly when there is one.
  const rportAt = via.rport === undefined ? -1 : paramIndex(params, 'rport');
  const parts = STAMP_PARTS;
  let at = 0;
  parts[at++] = via.protocol;
  parts[at++] = '/';
  parts[at++] = via.transport;
  parts[at++] = ' ';
  parts[at++] = via.host;
  if (via.port !== undefined) parts[at++] = ':' + via.port;
  for (let index = 0; index < params.length; index += 1) {
    const param = params[index]!;
    parts[at++] = ';';
    parts[at++] = param.name;
    const value = index === receivedAt ? requestFlow.remoteAddress : index === rportAt ? String(requestFlow.remotePort) : param.value;
    if (value !== undefined) {
      parts[at++] = '=';
      parts[at++] = value;
    }
  }
  if (receivedAt < 0) {
    parts[at++] = ';received=';
    parts[at++] = requestFlow.remoteAddress;
  }
  parts.length = at;
  return parts.join('');
}

/**
 * The route of the responses to a request whose top Via `via` (as received) was stamped by
 * {@link stampParsedTopVia}: what {@link chooseResponseRoute} gives for the stamped value, without parsing it.
 * Undefined when that is the request's own source over UDP (RFC 3581 §4, rport present: the usual case), which
 * the transport answers from the flow, so no route object is made for it.
 */
export function stampedResponseRoute(via: Via, requestFlow: Flow): ResponseRoute | undefined {
  const reliable = isReliable(requestFlow.transport);
  // RFC 3581 §4 without maddr: back to the source, the stamped `received` and `rport`.
  if (!reliable && via.rport !== undefined && !hasMaddr(via)) return undefined;
  // Stamping set `received` to the source address and a present `rport` to the source port.
  const route = routeOf(via, requestFlow.remoteAddress, via.rport === undefined ? undefined : requestFlow.remotePort, requestFlow);
  if (reliable) return route;
  const { address, port } = route.destination;
  return address === requestFlow.remoteAddress && port === requestFlow.remotePort ? undefined : route;
}

/** True when a maddr parameter value names an address (RFC 3261 §18.2.2 then sends there). */
function isAddress(maddr: string | null | undefined): maddr is string {
  return typeof maddr === 'string' && maddr.length > 0;
}

function hasMaddr(via: Via): boolean {
  return isAddress(findParam(via.params, 'maddr'));
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
  const via = parseVia(topViaValue);
  return routeOf(via, via.received ?? via.host.replace(/^\[(.*)\]$/, '$1'), via.rport, requestFlow);
}

/** {@link chooseResponseRoute} of a Via whose `received` (or unbracketed sent-by host) and `rport` are given. */
function routeOf(via: Via, received: string, rport: number | null | undefined, requestFlow: Flow): ResponseRoute {
  const transport = requestFlow.transport;
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
  if (isAddress(maddr)) {
    // RFC 3261 §18.2.2: "the response MUST be forwarded to the address listed there, using the port
    // indicated in sent-by, or port 5060 if none is present".
    return { destination: { transport, address: maddr, port: via.port ?? 5060 } };
  }
  if (typeof rport === 'number') {
    return { destination: { transport, address: received, port: rport } };
  }
  return { destination: { transport, address: received, port: sentByPort } };
}
