/**
 * Binds the transport layer to the gateway's SIP codec (sip-gateway/src/sip).
 */
import { SipParseError } from '../sip/errors';
import type { SipLimits } from '../sip/limits';
import { parseMessage, type SipMessage } from '../sip/message';
import { SipStreamFramer } from '../sip/stream-framer';
import type { Via } from '../sip/via';
import type { InboundEvent, TransportCodec } from './transport-layer';
import type { StreamFramerPort } from './tcp-endpoint';

/**
 * A response must never be answered (RFC 3261 §8.1.3.3 discards bad responses; answering could loop
 * between two peers), so a parse error of bytes that look like a response loses its response context.
 */
function unanswerableIfResponse(error: unknown, looksLikeResponse: boolean): unknown {
  if (!looksLikeResponse || !(error instanceof SipParseError) || !error.answerable) return error;
  return new SipParseError(error.reason, { code: error.code, header: error.header, cause: error });
}

function looksLikeResponse(bytes: Buffer): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 13 || bytes[i] === 10)) i++;
  return bytes.subarray(i, i + 4).toString('latin1').toUpperCase() === 'SIP/';
}

/**
 * Parses and checks one message: RFC 3261 §8.1.1/§8.2 essentials (Via, From, To, Call-ID, CSeq) must
 * be readable before the transaction layer may key it.
 *
 * @throws SipParseError (answerable only for requests whose context is readable).
 */
export function parseAndValidate(bytes: Buffer, limits: SipLimits): SipMessage {
  try {
    const message = parseMessage(bytes, limits);
    message.validate();
    return message;
  } catch (error) {
    throw unanswerableIfResponse(error, looksLikeResponse(bytes));
  }
}

/**
 * The request whose top Via this codec stamped last, the stamped value and the top Via as parsed before stamping.
 *
 * Stamping replaces the Via field, so the message forgets its parsed top Via and the transaction layer's view of the
 * request, made right after, would parse the stamped value again (~2 µs and ~300 bytes per REGISTER, absorb-path
 * CPU profile) only to read the branch, sent-by and transport, which stamping never changes (it sets `received` and
 * `rport`). One slot, overwritten by the next request: the view is made before the next datagram is read.
 */
let stampedMessage: SipMessage | undefined;
let stampedValue: string | undefined;
let stampedFrom: Via | undefined;
/** The message whose top Via was parsed last through the codec, and that Via (the one stamping starts from). */
let parsedMessage: SipMessage | undefined;
let parsedVia: Via | undefined;

/**
 * The top Via of `message` as parsed before this module stamped it, when its top Via is still the stamped value
 * (the same string: nothing edited the Via since). Its branch, sent-by host and port, transport and protocol are
 * those of the current top Via; its parameters are not (`received` and `rport` were set by stamping).
 */
export function topViaBeforeStamping(message: SipMessage): Via | undefined {
  if (stampedMessage !== message || stampedValue === undefined || message.header('Via') !== stampedValue) return undefined;
  return stampedFrom;
}

/**
 * The {@link TransportCodec} for {@link SipMessage}: datagrams parsed whole, TCP streams cut by the
 * codec's {@link SipStreamFramer} (Content-Length framing, RFC 5626 keep-alives, fatal 513/400).
 */
export function createSipTransportCodec(): TransportCodec<SipMessage> {
  return {
    parseDatagram: (datagram, limits) => parseAndValidate(datagram, limits),
    createStreamFramer(limits): StreamFramerPort<InboundEvent<SipMessage>> {
      const framer = new SipStreamFramer(limits);
      return {
        push(chunk: Buffer): Array<InboundEvent<SipMessage>> {
          const events: Array<InboundEvent<SipMessage>> = [];
          for (const event of framer.push(chunk)) {
            switch (event.kind) {
              case 'message':
                try {
                  events.push({ kind: 'message', message: parseAndValidate(event.data, limits) });
                } catch (error) {
                  events.push({ kind: 'malformed', error, fatal: false });
                }
                break;
              case 'keepalive-ping':
                events.push({ kind: 'keepalive-ping' });
                break;
              case 'keepalive-pong':
                // The answer to a ping of ours: the connection is alive, activity is already noted.
                break;
              case 'error':
                events.push({ kind: 'malformed', error: event.error, fatal: event.fatal });
                break;
            }
          }
          return events;
        },
      };
    },
    serialize: (message) => message.serialize(),
    isRequest: (message) => message.isRequest,
    topVia(message) {
      // The usual message has one Via value in its first Via field: take it without splitting every Via (and
      // without the array of every field's value).
      const first = message.header('Via');
      return first === undefined || first.includes(',') ? message.headerValues('Via')[0] : first;
    },
    parsedTopVia(message) {
      // Validation parsed the top Via already (SipMessage keeps it until the message is edited).
      const via = message.topVia();
      parsedMessage = message;
      parsedVia = via;
      return via;
    },
    setTopVia(message, value) {
      // Module variables rather than a record object per request (see stampedMessage).
      const fromParsed = parsedMessage === message && parsedVia !== undefined;
      stampedMessage = fromParsed ? message : undefined;
      stampedValue = fromParsed ? value : undefined;
      stampedFrom = fromParsed ? parsedVia : undefined;
      parsedMessage = undefined;
      parsedVia = undefined;
      const fields = message.fieldValues('Via');
      if (fields[0] !== undefined && !fields[0].includes(',')) {
        // Replace only the first field; the others keep their values as written (one field may hold several).
        fields[0] = value;
        message.setHeader('Via', fields);
        return;
      }
      const vias = message.headerValues('Via');
      vias[0] = value;
      message.setHeader('Via', vias);
    },
  };
}
