/**
 * Via handling of the proxy: our Via on relayed requests, its removal from responses
 * (RFC 3261 §16.6 step 8, §16.7 step 3).
 */
import { parseUri } from '../sip/uri';
import type { SipMessage } from '../sip/message';

/**
 * Our Via value: sent-by from `advertisedUri` (FWD-9), the next hop's transport, `branch`, and an
 * empty `rport` so replies come back to the socket we sent from (RFC 3581).
 *
 * @example
 * formatOwnVia('sip:203.0.113.10:5060', 'UDP', 'z9hG4bK1'); // 'SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK1;rport'
 */
export function formatOwnVia(advertisedUri: string, viaTransport: string, branch: string): string {
  const uri = parseUri(advertisedUri);
  const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
  return `SIP/2.0/${viaTransport.toUpperCase()} ${uri.host}:${port};branch=${branch};rport`;
}

/** A copy of `response` without its top Via value (ours), the rest unchanged. */
export function removeTopVia(response: SipMessage): SipMessage {
  const copy = response.clone();
  copy.setHeader('Via', copy.headerValues('Via').slice(1));
  return copy;
}
