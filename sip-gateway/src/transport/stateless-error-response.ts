/**
 * The answer to a message the codec could not accept (SPEC ERR-3 → 400, ERR-4 → 513), built from
 * the header fields the parser could still read. Pure.
 */
import { createHash } from 'node:crypto';
import type { SipParseError, SipResponseContext } from '../sip/errors';

/** RFC 3261 §21 reason phrases of the statuses this module produces. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  505: 'Version Not Supported',
  513: 'Message Too Large',
};

/** SPEC ERR-6 `P-Registrar-Error` text for a parse failure. */
export function registrarErrorText(error: SipParseError): string {
  if (error.statusCode === 513) return 'Message too large';
  if (error.code === 'missing-header' && error.header) return `${error.header} header not found`;
  if (error.header) return `Bad ${error.header} header`;
  return error.reason;
}

/**
 * RFC 3261 §8.2.6.2: a response without To tag gets one. It is derived from the request so that a
 * retransmission gets the same tag (stateless answer, no memory).
 */
function statelessToTag(context: SipResponseContext): string {
  return createHash('sha1').update(`${context.callId}\n${context.cseq}\n${context.via[0] ?? ''}\n${context.from}`).digest('hex').slice(0, 16);
}

function hasTag(to: string): boolean {
  const afterUri = to.includes('>') ? to.slice(to.lastIndexOf('>')) : to;
  return /;\s*tag\s*=/i.test(afterUri);
}

function sanitize(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/**
 * Serializes a stateless error response (RFC 3261 §8.2.6) to `error`'s message: its Via list, From,
 * To (with a tag), Call-ID and CSeq, plus `P-Registrar-Error` (SPEC ERR-1). Returns undefined when
 * the error carries no response context (the message is then dropped, SPEC ERR-3).
 */
export function buildStatelessErrorResponse(error: SipParseError): Buffer | undefined {
  const context = error.responseContext;
  if (!context || context.via.length === 0) return undefined;
  const status = error.statusCode;
  const to = hasTag(context.to) ? context.to : `${context.to};tag=${statelessToTag(context)}`;
  const lines = [
    `SIP/2.0 ${status} ${REASONS[status] ?? 'Bad Request'}`,
    ...context.via.map((via) => `Via: ${sanitize(via)}`),
    `From: ${sanitize(context.from)}`,
    `To: ${sanitize(to)}`,
    `Call-ID: ${sanitize(context.callId)}`,
    `CSeq: ${sanitize(context.cseq)}`,
    `P-Registrar-Error: ${sanitize(registrarErrorText(error))}`,
    'Content-Length: 0',
    '',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
