/**
 * Transaction matching keys, RFC 3261 §17.1.3 (client) and §17.2.3 (server, with the RFC 2543 fallback).
 */
import type { TransactionMessage } from './types';

/** RFC 3261 §8.1.1.7: branches created by RFC 3261 elements start with this cookie. */
export const MAGIC_COOKIE = 'z9hG4bK';

// Header values never contain a line feed once unfolded, so it cannot occur inside a key part.
const SEPARATOR = '\n';

/** True when `branch` was created by an RFC 3261 element (§8.1.1.7), so §17.2.3 branch matching applies. */
export function hasMagicCookie(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/**
 * §17.1.3: a response matches a client transaction when its top Via branch equals the request's and its CSeq
 * method equals the request's method (so the CANCEL and the INVITE it cancels, which share a branch, differ).
 */
export function clientTransactionKey(message: TransactionMessage): string {
  return ['c', message.via.branch ?? '', message.cseqMethod].join(SEPARATOR);
}

/**
 * §17.2.3: the server transaction key of a request.
 *
 * With a magic-cookie branch: branch, sent-by, and method, where an ACK counts as the INVITE it acknowledges
 * and a CANCEL keeps its own method. `methodOverride` gives the key of another method with the same branch
 * (§9.2: the INVITE a CANCEL targets).
 *
 * Otherwise (RFC 2543 peers): Request-URI, To tag, From tag, Call-ID, CSeq number and method (ACK as INVITE),
 * and the top Via. An ACK carries the To tag of the final response rather than the request's, so the layer
 * also indexes an INVITE transaction under the key built with its final response's To tag.
 */
export function serverTransactionKey(message: TransactionMessage, methodOverride?: string): string {
  const requestMethod = methodOverride ?? message.method;
  const method = requestMethod === 'ACK' ? 'INVITE' : requestMethod;
  const { via } = message;
  if (hasMagicCookie(via.branch)) {
    return ['s', via.branch, via.sentBy, method].join(SEPARATOR);
  }
  return [
    '2543',
    message.requestUri,
    message.toTag ?? '',
    message.fromTag ?? '',
    message.callId,
    String(message.cseqSeq),
    method,
    via.transport,
    via.sentBy,
    via.branch ?? '',
  ].join(SEPARATOR);
}
