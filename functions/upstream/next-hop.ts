/**
 * Where the mid-registrar's own REGISTERs go (SPEC DRG-5: "sent via the stored outbound proxy",
 * CFG-1 `upstreamOutboundProxy` `host:port[;transport=x]`, else the Request-URI; RFC 3263 §4.1/4.2
 * defaults without NAPTR/SRV: UDP, port 5060, 5061 for sips).
 */
import { parseUri } from '../../sip-gateway/src/sip/uri';
import type { TransportProtocol } from '../../sip-gateway/src/transport/flow';

/** A next hop before name resolution. */
export interface NextHop {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  transport: TransportProtocol;
}

/**
 * Parses `host:port[;transport=x]` or a SIP URI into the hop to send to.
 *
 * @throws SipParseError when the text is neither
 * @example
 * ```ts
 * parseNextHop('127.0.0.1:5070;transport=tcp'); // { host: '127.0.0.1', port: 5070, transport: 'tcp' }
 * ```
 */
export function parseNextHop(text: string): NextHop {
  const uri = parseUri(/^sips?:/i.test(text) ? text : `sip:${text}`);
  const param = uri.params.find((p) => p.name.toLowerCase() === 'transport')?.value?.toLowerCase();
  const transport: TransportProtocol = uri.scheme === 'sips' ? 'tls' : param === 'tcp' || param === 'tls' ? param : 'udp';
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  return { host, port: uri.port ?? (transport === 'tls' ? 5061 : 5060), transport };
}
