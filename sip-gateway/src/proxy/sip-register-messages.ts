/**
 * The {@link RegisterMessages} port implemented with the gateway's SIP codec.
 */
import {
  CONTRACT_VERSION,
  type Flow as ContractFlow,
  type LocalResponse,
  type RegisterRequest,
  type RelayInstructions,
  type UpstreamOutcome,
} from '../../../functions/core/contract';
import { badHeaderError, missingHeaderError, registrarErrorResponse, REGISTRAR_ERRORS } from '../../../functions/core/errors';
import { SipParseError } from '../sip/errors';
import { createResponse, type SipMessage } from '../sip/message';
import type { RegisterMessages } from './register-proxy';
import { formatOwnVia, removeTopVia } from './via-ops';

/** Option tags lower-cased; most REGISTERs carry none, and an empty list is returned as is. */
function lowerCased(tags: string[]): string[] {
  return tags.length === 0 ? tags : tags.map((tag) => tag.toLowerCase());
}

/**
 * `text` as a string of its own. Header values are cut from one latin1 string of the whole datagram,
 * and V8 keeps such a cut as a reference into that string: a binding storing its Call-ID, User-Agent or
 * Path would keep the whole REGISTER (~500 bytes) alive as long as the binding lives in the embedded
 * store, and every absorbed refresh would promote one more datagram to the old generation (measured with
 * `--trace-gc` on bench/lib/absorb-path.ts: 2.2 → 1.7 MB promoted per scavenge, median scavenge
 * 7.2 → 5.9 ms). Concatenating and cutting again makes V8 flatten a copy of just these characters.
 */
function ownText(text: string): string {
  return ` ${text}`.slice(1);
}

/** `values` (a fresh array the codec handed over) with each value replaced by its {@link ownText} copy, in place. */
function ownTexts(values: string[]): string[] {
  for (let i = 0; i < values.length; i++) values[i] = ownText(values[i]);
  return values;
}

/**
 * Builds the SIP side of the REGISTER flow.
 *
 * @param retryAfterMs - ERR-2 `retryAfter`, for the 5xx this module may generate
 * @param newToTag - To tags of local answers to malformed REGISTERs
 */
export function createSipRegisterMessages(retryAfterMs: number, newToTag: () => string): RegisterMessages<SipMessage> {
  return {
    toRegisterRequest(request, flow: ContractFlow, receivedAtMs) {
      try {
        // REG-1 step 2: the transport already validated Via, From, To, Call-ID, CSeq and Max-Forwards.
        const registerRequest: RegisterRequest = {
          version: CONTRACT_VERSION,
          requestUri: request.requestUri,
          // The strings a binding may keep (REG-6, M1-4, PTH-5) are copied out of the datagram's text.
          from: ownText(request.header('From') ?? ''),
          to: ownText(request.header('To') ?? ''),
          contacts: ownTexts(request.headerValues('Contact')),
          callId: ownText(request.callId()),
          cseq: request.cseq().seq,
          path: ownTexts(request.headerValues('Path')),
          supported: lowerCased(request.headerValues('Supported')),
          hasAuthorization: request.hasAuthorization(),
          flow,
          receivedAtMs,
        };
        // Optional fields set only when present (no temporary objects to spread, once per REGISTER).
        const expires = request.header('Expires');
        if (expires !== undefined) registerRequest.expires = expires;
        const maxForwards = request.maxForwards();
        if (maxForwards !== undefined) registerRequest.maxForwards = maxForwards;
        const userAgent = request.header('User-Agent');
        if (userAgent !== undefined) registerRequest.userAgent = ownText(userAgent);
        return registerRequest;
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
        const row =
          error.header === undefined
            ? REGISTRAR_ERRORS.internalError
            : error.code === 'missing-header'
              ? missingHeaderError(error.header)
              : badHeaderError(error.header);
        return { error: registrarErrorResponse(row, retryAfterMs, newToTag()) };
      }
    },

    localResponse(request, response: LocalResponse) {
      return createResponse(request, response.status, response.reason, { toTag: response.toTag, headers: response.headers });
    },

    relayRequest(request, relay: RelayInstructions, branch, viaTransport) {
      const relayed = request.clone();
      relayed.setRequestUri(relay.requestUri);
      for (const name of relay.removeHeaders) relayed.removeHeader(name);
      for (const [name, value] of relay.addHeaders) relayed.appendHeader(name, value);
      // FWD-5: our Path goes topmost, in the given order.
      for (const value of [...relay.prependPath].reverse()) relayed.prependHeader('Path', value);
      if (relay.supported !== undefined) relayed.setHeader('Supported', [relay.supported]);
      // RFC 3261 §16.6 step 3: Max-Forwards decremented, 70 when absent (0 was answered 483 by the decision).
      relayed.setHeader('Max-Forwards', [String(Math.max(0, (request.maxForwards() ?? 70) - 1))]);
      // RFC 3261 §16.6 step 8, FWD-9: our Via names the advertised socket the relay leaves from.
      relayed.prependHeader('Via', formatOwnVia(relay.sourceUri, viaTransport, branch));
      return relayed;
    },

    status: (response) => response.status,

    finalOutcome(response, sentAtMs, receivedAtMs): UpstreamOutcome {
      const expires = response.header('Expires');
      return {
        kind: 'final',
        status: response.status,
        contacts: response.headerValues('Contact'),
        ...(expires === undefined ? {} : { expires }),
        receivedAtMs,
        sentAtMs,
      };
    },

    forwardResponse: (response) => removeTopVia(response),

    rewriteResponse(response, removeHeaders, addHeaders) {
      const rewritten = removeTopVia(response);
      for (const name of removeHeaders) rewritten.removeHeader(name);
      for (const [name, value] of addHeaders) rewritten.appendHeader(name, value);
      return rewritten;
    },
  };
}
