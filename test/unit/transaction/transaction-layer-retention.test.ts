import { InvalidTimerSettingsError, TransactionError } from '../../../sip-gateway/src/transaction/errors';
import type { EncodedResponse, Transaction, TransactionRef } from '../../../sip-gateway/src/transaction/transaction-layer';
import {
  buildRequest,
  buildResponse,
  createLayerHarness,
  newServerTransaction,
  retransmissionOf,
  type TestMessage,
} from '../../support/transaction-builders';

type Tx = Transaction<TestMessage, string>;

/** An encoder and encoded-send pair that record what the layer does with them. */
function encodedWire(): {
  encoded: Array<{ status: number; target: string }>;
  sent: Array<{ encoded: EncodedResponse<string>; ref: TransactionRef }>;
  options: {
    encodeResponse: (response: TestMessage, target: string) => EncodedResponse<string>;
    sendEncoded: (encoded: EncodedResponse<string>, ref: TransactionRef) => void;
  };
} {
  const encoded: Array<{ status: number; target: string }> = [];
  const sent: Array<{ encoded: EncodedResponse<string>; ref: TransactionRef }> = [];
  return {
    encoded,
    sent,
    options: {
      encodeResponse: (response, target) => {
        encoded.push({ status: response.status, target });
        return { bytes: new TextEncoder().encode(`SIP/2.0 ${response.status}`), target: `routed:${target}` };
      },
      sendEncoded: (message, ref) => {
        sent.push({ encoded: message, ref });
      },
    },
  };
}

describe('Class: TransactionLayer (what a completed transaction keeps)', () => {
  describe('Method: respond with encodeResponse / sendEncoded', () => {
    it('GEN-6: the final response is serialized once and the same bytes answer every retransmission (§17.2.2)', () => {
      // Prepare
      const wire = encodedWire();
      const h = createLayerHarness(wire.options);
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));

      // Act
      const sent = h.layer.respond(tx, buildResponse(register, 200));
      h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);

      // Assess
      expect(sent).toBe(true);
      expect(wire.encoded).toEqual([{ status: 200, target: 'flow-1' }]);
      expect(wire.sent).toHaveLength(3);
      expect(new Set(wire.sent.map((entry) => entry.encoded.bytes)).size).toBe(1);
      expect(wire.sent.map((entry) => entry.encoded.target)).toEqual(['routed:flow-1', 'routed:flow-1', 'routed:flow-1']);
      expect(h.transport.sent).toEqual([]);
    });

    it('provisional responses still go through send unencoded; only the final one is encoded', () => {
      // Prepare
      const wire = encodedWire();
      const h = createLayerHarness(wire.options);
      const invite = buildRequest({ method: 'INVITE' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow-1', false));

      // Act
      h.layer.respond(tx, buildResponse(invite, 180));
      h.layer.respond(tx, buildResponse(invite, 486));

      // Assess
      expect(h.transport.sent.map((record) => record.message.status)).toEqual([100, 180]);
      expect(wire.encoded.map((entry) => entry.status)).toEqual([486]);
      expect(tx.state).toBe('Completed');
    });

    it('§17.2.4: a late failure of an encoded send, reported with its reference, ends the transaction', () => {
      // Prepare
      const wire = encodedWire();
      const h = createLayerHarness(wire.options);
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      h.layer.respond(tx, buildResponse(register, 200));

      // Act
      h.layer.reportTransportError(wire.sent[0]!.ref);

      // Assess
      expect(h.serverEvents).toEqual([`transport-error:${tx.id}`, `terminated:${tx.id}`]);
      expect(h.layer.stats().serverTransactions).toBe(0);
      // Its entry in the shared TU-cap queue is passed by when it falls due: no event, no timer left.
      h.clock.advance(32_000);
      expect(h.serverEvents).toEqual([`transport-error:${tx.id}`, `terminated:${tx.id}`]);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('sends the response unencoded through send when encoding throws', () => {
      // Prepare
      const sentEncoded: unknown[] = [];
      const h = createLayerHarness({
        encodeResponse: () => {
          throw new Error('response without Via');
        },
        sendEncoded: (encoded) => sentEncoded.push(encoded),
      });
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      const ok = buildResponse(register, 200);

      // Act
      const sent = h.layer.respond(tx, ok);

      // Assess
      expect(sent).toBe(true);
      expect(h.transport.sent.map((record) => record.message)).toEqual([ok]);
      expect(sentEncoded).toEqual([]);
    });

    it('refuses encodeResponse without sendEncoded', () => {
      // Prepare
      const wire = encodedWire();

      // Act
      const create = (): unknown => createLayerHarness({ encodeResponse: wire.options.encodeResponse });

      // Assess
      expect(create).toThrow(TransactionError);
    });
  });

  describe('Method: receiveRequest after the final response', () => {
    it('lets go of the TU object when no listener can need it, and holds only Timer J until it fires (§17.2.2)', () => {
      // Prepare
      const h = createLayerHarness({ serverListener: {} });
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      const whileTrying = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      const ok = buildResponse(register, 200);

      // Act
      h.layer.respond(tx, ok);
      const timersWhileCompleted = h.clock.pendingTimerCount();
      const whileCompleted = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      h.clock.advance(32_000);

      // Assess
      expect(whileTrying).toEqual({ kind: 'absorbed', transaction: tx });
      expect(whileCompleted).toEqual({ kind: 'absorbed' });
      expect(h.transport.sent.map((record) => record.message)).toEqual([ok, ok]);
      // Timer J, and the shared TU-cap queue's timer (which passes the answered transaction's entry by).
      expect(timersWhileCompleted).toBe(2);
      expect(tx.state).toBe('Terminated');
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 0, indexedKeys: 0, forcedTerminations: 0 });
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('keeps the TU object while a server listener wants to hear of the termination', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));

      // Act
      h.layer.respond(tx, buildResponse(register, 200));
      const whileCompleted = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      h.clock.advance(32_000);

      // Assess
      expect(whileCompleted).toEqual({ kind: 'absorbed', transaction: tx });
      expect(h.serverEvents).toEqual([`terminated:${tx.id}`]);
    });

    it('discards a second final response from the TU after letting go (§17.2.2)', () => {
      // Prepare
      const h = createLayerHarness({ serverListener: {} });
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      h.layer.respond(tx, buildResponse(register, 200));

      // Act
      const second = h.layer.respond(tx, buildResponse(register, 500));

      // Assess
      expect(second).toBe(false);
      expect(h.transport.sent.map((record) => record.message.status)).toEqual([200]);
    });
  });

  describe('Method: receiveResponse after the final response', () => {
    it('absorbs a retransmitted final response without the TU object when the TU gave no termination callback (§17.1.2.2)', () => {
      // Prepare
      const h = createLayerHarness();
      const responses: number[] = [];
      const options = buildRequest({ method: 'OPTIONS' });
      h.layer.sendRequest(options, 'upstream', false, { onResponse: (response) => responses.push(response.status) });
      const ok = buildResponse(options, 200);

      // Act
      const first = h.layer.receiveResponse(ok);
      const again = h.layer.receiveResponse(retransmissionOf(ok));
      h.clock.advance(5_000);

      // Assess
      expect(first.kind).toBe('matched');
      expect(again).toEqual({ kind: 'matched' });
      expect(responses).toEqual([200]);
      expect(h.layer.stats()).toMatchObject({ clientTransactions: 0, forcedTerminations: 0 });
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('keeps the TU object of a client transaction whose TU wants its termination', () => {
      // Prepare
      const h = createLayerHarness();
      const events: string[] = [];
      const options = buildRequest({ method: 'OPTIONS' });
      const tx = h.layer.sendRequest(options, 'upstream', false, {
        onResponse: (response) => events.push(`response:${response.status}`),
        onTerminated: () => events.push('terminated'),
      });
      const ok = buildResponse(options, 200);
      h.layer.receiveResponse(ok);

      // Act
      const again = h.layer.receiveResponse(retransmissionOf(ok));
      h.clock.advance(5_000);

      // Assess
      expect(again).toEqual({ kind: 'matched', transaction: tx });
      expect(events).toEqual(['response:200', 'terminated']);
    });
  });
  describe('Option: timerBucketMs', () => {
    it('§17.2.2: Timer J of transactions completed within one slot fires at the slot end, never early, on one shared clock timer', () => {
      // Prepare
      const h = createLayerHarness({ serverListener: {}, timerBucketMs: 100 });
      const transactions: Tx[] = [];
      // The harness clock starts at 1,000,000 ms: the transactions complete at 1,000,001 … 1,000,082 ms.
      h.clock.advance(1);
      const slotEndMs = 1_032_100;

      // Act
      for (let index = 0; index < 10; index += 1) {
        const register = buildRequest();
        const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow', false));
        h.layer.respond(tx, buildResponse(register, 200));
        transactions.push(tx);
        h.clock.advance(9);
      }
      const clockTimers = h.clock.pendingTimerCount();
      h.clock.advance(slotEndMs - 1 - h.clock.nowMs());
      const liveBeforeSlot = h.layer.stats().serverTransactions;
      h.clock.advance(1);

      // Assess
      // Timer J (32 s) shares the slot ending at +32,100 ms with the others; the TU caps are in their own queue (one
      // clock timer); a non-INVITE server transaction's lifetime cap only starts if its TU cap fires.
      expect(clockTimers).toBe(2);
      expect(liveBeforeSlot).toBe(10);
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 0, forcedTerminations: 0 });
      expect(transactions.every((tx) => tx.state === 'Terminated')).toBe(true);
    });

    it('§17.2.1: keeps retransmission timers exact (Timer G re-sends at T1)', () => {
      // Prepare
      const h = createLayerHarness({ timerBucketMs: 100 });
      h.clock.advance(30);
      const invite = buildRequest({ method: 'INVITE' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      h.layer.respond(tx, buildResponse(invite, 486));
      h.transport.clear();

      // Act
      h.clock.advance(499);
      const beforeG = h.transport.sent.length;
      h.clock.advance(1);

      // Assess
      expect(beforeG).toBe(0);
      expect(h.transport.sent.map((record) => record.message.status)).toEqual([486]);
    });

    it('rejects a negative slot size', () => {
      // Prepare
      const create = (): unknown => createLayerHarness({ timerBucketMs: -1 });

      // Act
      // Assess
      expect(create).toThrow(InvalidTimerSettingsError);
    });
  });
});
