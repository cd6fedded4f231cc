import {
  clientTransactionKey,
  hasMagicCookie,
  serverTransactionKey,
} from '../../../sip-gateway/src/transaction/transaction-key';
import { buildRequest, buildResponse, testCodec } from '../../support/transaction-builders';

describe('transaction keys', () => {
  describe('hasMagicCookie (RFC 3261 §8.1.1.7)', () => {
    it.each([
      ['z9hG4bK776asdhds', true],
      ['z9hG4bK', false],
      ['776asdhds', false],
      ['Z9HG4BK776', false],
      [undefined, false],
    ])('%s → %s', (branch, expected) => {
      // Act
      const result = hasMagicCookie(branch);
      // Assess
      expect(result).toBe(expected);
    });
  });

  describe('clientTransactionKey (§17.1.3)', () => {
    it('matches a response to its request by branch and CSeq method', () => {
      // Prepare
      const invite = buildRequest({ method: 'INVITE', branch: 'z9hG4bKabc' });
      // Act
      const key = clientTransactionKey(buildResponse(invite, 180));
      // Assess
      expect(key).toBe(clientTransactionKey(invite));
    });

    it('keeps a CANCEL apart from the INVITE it shares a branch with', () => {
      // Prepare
      const invite = buildRequest({ method: 'INVITE', branch: 'z9hG4bKabc' });
      const cancel = testCodec.createCancel(invite);
      // Act
      const cancelResponseKey = clientTransactionKey(buildResponse(cancel, 200));
      // Assess
      expect(cancelResponseKey).toBe(clientTransactionKey(cancel));
      expect(cancelResponseKey).not.toBe(clientTransactionKey(invite));
    });
  });

  describe('serverTransactionKey (§17.2.3)', () => {
    it('matches an ACK to the INVITE, but not a CANCEL', () => {
      // Prepare
      const invite = buildRequest({ method: 'INVITE', branch: 'z9hG4bKabc' });
      const ack = testCodec.createAck(invite, buildResponse(invite, 486));
      const cancel = testCodec.createCancel(invite);
      // Act
      const keys = [invite, ack, cancel].map((message) => serverTransactionKey(message));
      // Assess
      expect(keys[1]).toBe(keys[0]);
      expect(keys[2]).not.toBe(keys[0]);
      expect(serverTransactionKey(cancel, 'INVITE')).toBe(keys[0]);
    });

    it('distinguishes equal branches from different sent-by values', () => {
      // Prepare
      const a = buildRequest({ branch: 'z9hG4bKsame', sentBy: '192.0.2.1:5060' });
      const b = buildRequest({ branch: 'z9hG4bKsame', sentBy: '192.0.2.2:5060' });
      // Act
      const keys = [serverTransactionKey(a), serverTransactionKey(b)];
      // Assess
      expect(keys[0]).not.toBe(keys[1]);
    });

    it('ignores Call-ID, tags and CSeq when the branch has the magic cookie', () => {
      // Prepare
      const a = buildRequest({ branch: 'z9hG4bKsame', callId: 'one', cseqSeq: 1, fromTag: 'x' });
      const b = buildRequest({ branch: 'z9hG4bKsame', callId: 'two', cseqSeq: 2, fromTag: 'y' });
      // Act
      const keys = [serverTransactionKey(a), serverTransactionKey(b)];
      // Assess
      expect(keys[0]).toBe(keys[1]);
    });

    describe('RFC 2543 fallback (no magic cookie)', () => {
      const base = { method: 'INVITE', branch: undefined, requestUri: 'sip:bob@example.com', callId: 'c1', cseqSeq: 7 };

      it('matches identical retransmissions', () => {
        // Prepare
        const first = buildRequest(base);
        const again = buildRequest(base);
        // Act
        const keys = [serverTransactionKey(first), serverTransactionKey(again)];
        // Assess
        expect(keys[0]).toBe(keys[1]);
      });

      it.each([
        ['Request-URI', { requestUri: 'sip:alice@example.com' }],
        ['Call-ID', { callId: 'c2' }],
        ['CSeq number', { cseqSeq: 8 }],
        ['From tag', { fromTag: 'other' }],
        ['To tag', { toTag: 'other' }],
        ['top Via sent-by', { sentBy: '198.51.100.1:5060' }],
        ['top Via branch', { branch: 'old-style-branch' }],
      ])('tells requests apart by %s', (_field, change) => {
        // Prepare
        const first = buildRequest(base);
        const other = buildRequest({ ...base, ...change });
        // Act
        const keys = [serverTransactionKey(first), serverTransactionKey(other)];
        // Assess
        expect(keys[0]).not.toBe(keys[1]);
      });

      it('matches an ACK carrying the final response To tag to the INVITE keyed with that tag', () => {
        // Prepare
        const invite = buildRequest(base);
        const ack = testCodec.createAck(invite, buildResponse(invite, 486, 'resp-tag'));
        // Act
        const ackKey = serverTransactionKey(ack);
        // Assess
        expect(ackKey).not.toBe(serverTransactionKey(invite));
        expect(ackKey).toBe(serverTransactionKey({ ...invite, toTag: 'resp-tag' }));
      });
    });
  });
});
