/**
 * Builders of REGISTER and register-reply requests for the handler tests.
 */
import { CONTRACT_VERSION, type RegisterReplyRequest, type RegisterRequest, type RelayContext } from '../../../functions/core/contract';
import { makeFlow } from '../core/timed-work/record-fixtures';

export function registerRequest(overrides: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    version: CONTRACT_VERSION,
    requestUri: 'sip:example.com',
    from: '<sip:alice@example.com>;tag=f1',
    to: '<sip:alice@example.com>',
    contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'],
    callId: 'call-1',
    cseq: 1,
    path: [],
    supported: [],
    hasAuthorization: false,
    flow: makeFlow(),
    receivedAtMs: 1_000,
    ...overrides,
  };
}

/** Upstream's 200 OK for a relay, granting each relayed contact `grantedSec`. */
export function replyOk(context: RelayContext, relayedContacts: string[], grantedSec = 3600, atMs = 1_100): RegisterReplyRequest {
  return {
    version: CONTRACT_VERSION,
    context,
    outcome: {
      kind: 'final',
      status: 200,
      contacts: relayedContacts.map((c) => c.replace(/;expires=\d+/, `;expires=${grantedSec}`)),
      receivedAtMs: atMs,
      sentAtMs: atMs - 50,
    },
  };
}
