/**
 * Flows: how a message came in, and how to reach a peer again (SPEC §1 "flow", PTH-2, PTH-3).
 */
import { TransportError } from './errors';

/** Transport protocols the gateway speaks. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls';

/**
 * One flow: the transport, our local socket, the peer's address, and for connection-oriented
 * transports the connection it used. The gateway adds its instance id when it stores a flow.
 */
export interface Flow {
  transport: TransportProtocol;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** TCP/TLS: the connection the message came on (unique within one gateway process). */
  connectionId?: string;
}

/** Where to send when there is no flow (or its connection is gone): a transport and a peer. */
export interface Destination {
  transport: TransportProtocol;
  address: string;
  port: number;
}

/** A socket to listen on, parsed from a `listen` spec string. */
export interface ListenSpec {
  transport: TransportProtocol;
  host: string;
  port: number;
}

/** A `listen` entry that is not `udp|tcp|tls:host:port`. */
export class ListenSpecError extends TransportError {
  constructor(message: string) {
    super(message);
    this.name = 'ListenSpecError';
  }
}

/** True for transports with connections: responses reuse the connection (RFC 3261 §18.2.2). */
export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

/** Default port of a transport when a URI or Via gives none (RFC 3261 §18.2.2, §19.1.2). */
export function defaultPort(transport: TransportProtocol): number {
  return transport === 'tls' ? 5061 : 5060;
}

/**
 * Parses a listen spec (SPEC CFG-4): `udp:0.0.0.0:5060`, `tcp:127.0.0.1:5070`, `tls:[::1]:5061`.
 *
 * @throws ListenSpecError naming the spec when it is malformed.
 * @example
 * parseListenSpec('udp:127.0.0.1:5060'); // { transport: 'udp', host: '127.0.0.1', port: 5060 }
 */
export function parseListenSpec(spec: string): ListenSpec {
  const match = /^(udp|tcp|tls):(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(spec.trim().toLowerCase());
  const port = match ? Number.parseInt(match[3]!, 10) : NaN;
  if (!match || port > 65535) throw new ListenSpecError(`invalid listen spec "${spec}": expected udp|tcp|tls:host:port`);
  const host = match[2]!.startsWith('[') ? match[2]!.slice(1, -1) : match[2]!;
  return { transport: match[1] as TransportProtocol, host, port };
}

/** A stable text key of a flow, for maps and logs: `tcp:127.0.0.1:5060>192.0.2.1:40000#c7`. */
export function flowKey(flow: Flow): string {
  const connection = flow.connectionId === undefined ? '' : `#${flow.connectionId}`;
  return `${flow.transport}:${flow.localAddress}:${flow.localPort}>${flow.remoteAddress}:${flow.remotePort}${connection}`;
}
