/**
 * The transaction layer's view of a {@link SipMessage}, and the few messages it builds itself
 * (RFC 3261 §17.1.1.3 ACK, §9.1 CANCEL, §8.2.6 responses).
 */
import { createPooledRandomBytes } from '../decision/pooled-random-bytes';
import { createRequest, createResponse, type SipMessage } from '../sip/message';
import type { TransactionCodec, TransactionMessage, TransactionVia } from '../transaction/types';
import { topViaBeforeStamping } from '../transport/sip-transport-codec';

const pooledRandomBytes = createPooledRandomBytes();

/**
 * `text.toUpperCase()`, but `text` itself when that would change nothing (no ASCII lower-case letter, nothing
 * beyond ASCII): `toUpperCase` makes a new string every time, and every request view cases three (~25 bytes each).
 */
function upperCase(text: string): string {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if ((code >= 97 && code <= 122) || code >= 128) return text.toUpperCase();
  }
  return text;
}

/** `text.toLowerCase()`, but `text` itself when that would change nothing (see {@link upperCase}). */
function lowerCase(text: string): string {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if ((code >= 65 && code <= 90) || code >= 128) return text.toLowerCase();
  }
  return text;
}

/** The §17 matching fields of a message's top Via (host lower-cased, transport upper-cased). */
function viewVia(message: SipMessage): TransactionVia {
  // A request the transport just stamped: the fields read here are the same before stamping (see the function).
  const via = topViaBeforeStamping(message) ?? message.topVia();
  const host = lowerCase(via?.host ?? '');
  return {
    branch: via?.branch,
    sentBy: via?.port === undefined ? host : `${host}:${via.port}`,
    transport: upperCase(via?.transport ?? ''),
  };
}

/**
 * The view of a response, its fields read from the message when first asked: the layer reads only
 * `status` of every response it sends (benchmarks: parsing Via, From, To and CSeq of each for
 * nothing cost ~1 KB of allocation per REGISTER). Requests keep a plain object, since the layer
 * copies their views with object spread, which does not see prototype getters.
 */
class LazyResponseView implements TransactionMessage {
  readonly isRequest = false;
  readonly requestUri = '';
  private viaValue: TransactionVia | undefined;

  constructor(private readonly message: SipMessage) {}

  get method(): string {
    return this.cseqMethod;
  }

  get status(): number {
    return this.message.status;
  }

  get via(): TransactionVia {
    this.viaValue ??= viewVia(this.message);
    return this.viaValue;
  }

  get callId(): string {
    return this.message.callId();
  }

  get cseqSeq(): number {
    return this.message.cseq().seq;
  }

  get cseqMethod(): string {
    return upperCase(this.message.cseq().method);
  }

  get fromTag(): string | undefined {
    return this.message.fromTag();
  }

  get toTag(): string | undefined {
    return this.message.toTag();
  }
}

/**
 * Builds the codec. `newToTag` gives the To tag of responses the layer generates (408 on TU timeout);
 * 100 Trying carries none (RFC 3261 §8.2.6.2 allows it, nothing needs it).
 */
export function createSipTransactionCodec(newToTag: () => string = () => pooledRandomBytes(6).toString('hex')): TransactionCodec<SipMessage> {
  /** Headers an ACK or CANCEL copies from the INVITE (RFC 3261 §9.1, §17.1.1.3). */
  const copied = (invite: SipMessage, method: string, to: string): [string, string][] => [
    ['Via', invite.headerValues('Via')[0] ?? ''],
    ['Max-Forwards', '70'],
    ...invite.headerValues('Route').map((route): [string, string] => ['Route', route]),
    ['From', invite.header('From') ?? ''],
    ['To', to],
    ['Call-ID', invite.callId()],
    ['CSeq', `${invite.cseq().seq} ${method}`],
  ];
  return {
    view(message): TransactionMessage {
      if (!message.isRequest) return new LazyResponseView(message);
      const cseq = message.cseq();
      return {
        isRequest: true,
        method: upperCase(message.method),
        status: message.status,
        requestUri: message.requestUri,
        via: viewVia(message),
        callId: message.callId(),
        cseqSeq: cseq.seq,
        cseqMethod: upperCase(cseq.method),
        fromTag: message.fromTag(),
        toTag: message.toTag(),
      };
    },
    status: (response) => response.status,
    createAck: (invite, finalResponse) =>
      createRequest({ method: 'ACK', requestUri: invite.requestUri, headers: copied(invite, 'ACK', finalResponse.header('To') ?? '') }),
    createCancel: (invite) =>
      createRequest({ method: 'CANCEL', requestUri: invite.requestUri, headers: copied(invite, 'CANCEL', invite.header('To') ?? '') }),
    createResponse: (request, status, reason) => createResponse(request, status, reason, status > 100 ? { toTag: newToTag() } : {}),
  };
}
