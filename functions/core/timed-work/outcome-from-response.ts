/**
 * Reads upstream's final response to a REGISTER we originated into a {@link TimedWorkOutcome}
 * (SPEC RPL-4 for g, DRG-6 for Retry-After, DRG-11 for challenges), so every sender reads it alike.
 */
import { parseDeltaSeconds } from '../../../sip-gateway/src/sip/chars';
import { findParam } from '../../../sip-gateway/src/sip/header-params';
import { splitNameAddr } from '../../../sip-gateway/src/sip/name-addr';
import { splitHeaderValues } from '../../../sip-gateway/src/sip/split';
import { parseUri, urisEqual } from '../../../sip-gateway/src/sip/uri';
import type { OutgoingRegister, TimedWorkOutcome } from './timed-work-types';

/** The parts of a final response the timed work reads. */
export interface TimedWorkResponse {
  status: number;
  /** Raw Contact header values. */
  contacts: string[];
  /** Raw Expires header value. */
  expires?: string;
  /** Raw Retry-After header value (`delta-seconds [comment] *(;param)`). */
  retryAfter?: string;
  /** WWW-Authenticate (401) or Proxy-Authenticate (407) value; the first Digest one if several. */
  challenge?: string;
}

function deltaSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseDeltaSeconds(text.trim());
  return value < 0 ? undefined : value;
}

/** RPL-4: our contact's `expires`, else the Expires header; 0 when our contact is missing (RPL-5). */
function granted(send: OutgoingRegister, response: TimedWorkResponse): { grantedExpiresSec?: number; contactAsReturned?: string } {
  const ourUri = parseUri(send.contactUri);
  for (const value of response.contacts) {
    for (const item of splitHeaderValues(value)) {
      let parts;
      try {
        parts = splitNameAddr(item, 'Contact');
        if (!urisEqual(parseUri(parts.uriText), ourUri)) continue;
      } catch {
        continue;
      }
      const param = findParam(parts.params, 'expires');
      const grantedExpiresSec = (typeof param === 'string' ? deltaSeconds(param) : undefined) ?? deltaSeconds(response.expires);
      return grantedExpiresSec === undefined ? { contactAsReturned: parts.uriText } : { grantedExpiresSec, contactAsReturned: parts.uriText };
    }
  }
  return { grantedExpiresSec: 0 };
}

/**
 * The outcome of one transmission from its final response.
 *
 * @example
 * ```ts
 * const outcome = timedWorkOutcomeFromResponse(send, { status: 200, contacts: ['<sip:…;ctid=11>;expires=3600'] });
 * applyTimedWorkOutcome(config, record, send.workId, send.attemptId, outcome, nowMs);
 * ```
 */
export function timedWorkOutcomeFromResponse(send: OutgoingRegister, response: TimedWorkResponse): TimedWorkOutcome {
  if (response.status >= 200 && response.status < 300) {
    // A De-REGISTER's 2xx ends the work whatever it lists (DRG-6).
    return send.purpose === 'refresh' ? { kind: '2xx', ...granted(send, response) } : { kind: '2xx' };
  }
  const outcome: Extract<TimedWorkOutcome, { kind: 'failure' }> = { kind: 'failure', status: response.status };
  const retryAfterSec = deltaSeconds(response.retryAfter?.split(/[\s;(]/)[0]);
  if (retryAfterSec !== undefined) outcome.retryAfterSec = retryAfterSec;
  if (response.challenge !== undefined) outcome.challenge = response.challenge;
  return outcome;
}
