/**
 * The wire form of a REGISTER the mid-registrar originates (SPEC DRG-5, DRG-9) and what its final
 * response means for the timed work (DRG-6, DRG-11, RPL-4).
 */
import type { OutgoingRegister, TimedWorkOutcome } from '../core/timed-work';
import { contactExpiresSec } from '../../sip-gateway/src/sip/contact';
import { parseNameAddr, splitNameAddr, type NameAddr } from '../../sip-gateway/src/sip/name-addr';
import { splitHeaderValues } from '../../sip-gateway/src/sip/split';
import { parseUri, urisEqual } from '../../sip-gateway/src/sip/uri';
import { createRequest, type SipMessage } from '../../sip-gateway/src/sip/message';

/** The Via the sender puts on top (RFC 3261 §18.1.1, RFC 3581 §3). */
export interface ViaFields {
  /** Upper-case transport token: `UDP`, `TCP`, `TLS`. */
  transport: string;
  /** sent-by: the socket the request leaves from (FWD-9). */
  host: string;
  port: number;
  /** Branch including the RFC 3261 §8.1.1.7 magic cookie `z9hG4bK`. */
  branch: string;
}

/**
 * Builds the REGISTER: `REGISTER <requestUri>`, our Via with an empty `rport` (RFC 3581 §3: the answer
 * comes back to the port it left from, whatever NAT or ephemeral socket is in between), then the
 * planned headers in order and `Content-Length: 0`.
 *
 * @throws SipParseError when the planned Request-URI or a header name is invalid
 */
export function buildRegisterMessage(register: OutgoingRegister, via: ViaFields): SipMessage {
  const sentBy = via.host.includes(':') && !via.host.startsWith('[') ? `[${via.host}]:${via.port}` : `${via.host}:${via.port}`;
  return createRequest({
    method: 'REGISTER',
    requestUri: register.requestUri,
    headers: [['Via', `SIP/2.0/${via.transport} ${sentBy};branch=${via.branch};rport`], ...register.headers],
  });
}

function parseSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number.parseInt(value, 10);
}

function sameContact(a: string, b: string): boolean {
  try {
    return urisEqual(parseUri(a), parseUri(b));
  } catch {
    return a === b;
  }
}

/** Our contact in a 2xx, with its URI text exactly as upstream wrote it (RPL-5) and its header params. */
function findOurContact(response: SipMessage, contactUri: string): { uriText: string; contact: NameAddr } | undefined {
  try {
    for (const item of response.headerValues('Contact').flatMap((value) => splitHeaderValues(value))) {
      if (item.trim() === '*') continue;
      const { uriText } = splitNameAddr(item, 'Contact');
      if (sameContact(uriText, contactUri)) return { uriText, contact: parseNameAddr(item, 'Contact') };
    }
  } catch {
    // An unreadable Contact list grants nothing readable: g falls back to Expires or the E sent (RPL-4).
  }
  return undefined;
}

/**
 * What a final response to `register` means (DRG-6): a 2xx with g and our contact as returned
 * (RPL-4: our contact's `expires`, else the Expires header; absent, the core uses the E sent), or a
 * failure with its status, Retry-After and the challenge of a 401/407 (DRG-11).
 */
export function outcomeOfResponse(response: SipMessage, register: OutgoingRegister): TimedWorkOutcome {
  if (response.status >= 200 && response.status < 300) {
    const ours = findOurContact(response, register.contactUri);
    const grantedExpiresSec = (ours === undefined ? undefined : contactExpiresSec(ours.contact)) ?? parseSeconds(response.header('Expires'));
    return {
      kind: '2xx',
      ...(grantedExpiresSec === undefined ? {} : { grantedExpiresSec }),
      ...(ours === undefined ? {} : { contactAsReturned: ours.uriText }),
    };
  }
  const retryAfterSec = parseSeconds(response.header('Retry-After')?.split(/[;(]/)[0]);
  const challenge = response.status === 407 ? response.header('Proxy-Authenticate') : response.status === 401 ? response.header('WWW-Authenticate') : undefined;
  return {
    kind: 'failure',
    status: response.status,
    ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
    ...(challenge === undefined ? {} : { challenge }),
  };
}
