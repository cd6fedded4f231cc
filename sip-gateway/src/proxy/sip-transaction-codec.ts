/**
 * The transaction layer's view of a {@link SipMessage}, and the few messages it builds itself
 * (RFC 3261 §17.1.1.3 ACK, §9.1 CANCEL, §8.2.6 responses).
 */
import { randomBytes } from 'node:crypto';
import { createRequest, createResponse, type SipMessage } from '../sip/message';
import type { TransactionCodec, TransactionMessage } from '../transaction/types';

/**
 * Builds the codec. `newToTag` gives the To tag of responses the layer generates (408 on TU timeout);
 * 100 Trying carries none (RFC 3261 §8.2.6.2 allows it, nothing needs it).
 */
export function createSipTransactionCodec(newToTag: () => string = () => randomBytes(6).toString('hex')): TransactionCodec<SipMessage> {
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
      const via = message.topVia();
      const cseq = message.cseq();
      const host = (via?.host ?? '').toLowerCase();
      return {
        isRequest: message.isRequest,
        method: (message.isRequest ? message.method : cseq.method).toUpperCase(),
        status: message.status,
        requestUri: message.requestUri,
        via: {
          branch: via?.branch,
          sentBy: via?.port === undefined ? host : `${host}:${via.port}`,
          transport: (via?.transport ?? '').toUpperCase(),
        },
        callId: message.callId(),
        cseqSeq: cseq.seq,
        cseqMethod: cseq.method.toUpperCase(),
        fromTag: message.fromTag(),
        toTag: message.toTag(),
      };
    },
    createAck: (invite, finalResponse) =>
      createRequest({ method: 'ACK', requestUri: invite.requestUri, headers: copied(invite, 'ACK', finalResponse.header('To') ?? '') }),
    createCancel: (invite) =>
      createRequest({ method: 'CANCEL', requestUri: invite.requestUri, headers: copied(invite, 'CANCEL', invite.header('To') ?? '') }),
    createResponse: (request, status, reason) => createResponse(request, status, reason, status > 100 ? { toTag: newToTag() } : {}),
  };
}
