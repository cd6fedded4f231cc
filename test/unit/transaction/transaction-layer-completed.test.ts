import type { Clock } from '../../../sip-gateway/src/transaction/clock';
import { TransactionLayer, type EncodedResponse, type TransactionRef } from '../../../sip-gateway/src/transaction/transaction-layer';
import { FakeClock } from '../../support/fake-clock';
import { buildRequest, buildResponse, newServerTransaction, retransmissionOf, testCodec, type TestMessage } from '../../support/transaction-builders';

/** A fake clock whose wall time (`nowMs`) the test can step, while its timers and `monotonicMs` run on. */
class SteppableClock implements Clock {
  private wallOffsetMs = 0;

  constructor(readonly fake: FakeClock) {}

  nowMs(): number {
    return this.fake.nowMs() + this.wallOffsetMs;
  }

  monotonicMs(): number {
    return this.fake.nowMs();
  }

  setTimer(delayMs: number, fn: () => void): unknown {
    return this.fake.setTimer(delayMs, fn);
  }

  clearTimer(handle: unknown): void {
    this.fake.clearTimer(handle);
  }

  stepWallClock(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
  }
}

/**
 * A layer as the gateway wires it for absorbed REGISTERs: final responses encoded once, no server listener, so a
 * completed UDP non-INVITE server transaction is reduced to its retransmission state.
 */
function harness(options: { timerBucketMs?: number; clock?: Clock; throwOnResend?: boolean; tuCapMs?: number } = {}) {
  const fake = new FakeClock(1_000_000);
  const clock = options.clock ?? fake;
  const sent: Array<{ encoded: EncodedResponse<string>; ref: TransactionRef }> = [];
  const unencoded: TestMessage[] = [];
  let encodedCount = 0;
  const layer = new TransactionLayer<TestMessage, string>({
    clock,
    codec: testCodec,
    send: (message) => unencoded.push(message),
    encodeResponse: (response, target) => {
      encodedCount += 1;
      return { bytes: new TextEncoder().encode(`SIP/2.0 ${response.status} #${encodedCount}`), target: `routed:${target}` };
    },
    sendEncoded: (encoded, ref) => {
      if (options.throwOnResend === true && sent.length > 0) throw new Error('socket closed');
      sent.push({ encoded, ref });
    },
    ...(options.timerBucketMs === undefined ? {} : { timerBucketMs: options.timerBucketMs }),
    ...(options.tuCapMs === undefined ? {} : { limits: { nonInviteServerTuTimeoutMs: options.tuCapMs } }),
  });
  return { fake, layer, sent, unencoded };
}

describe('Class: TransactionLayer (completed non-INVITE server transactions over UDP, reduced)', () => {
  describe('Method: receiveRequest while Completed', () => {
    it('GEN-6 §17.2.2: every retransmission re-sends the same bytes to the same target; other requests are new', () => {
      // Prepare
      const h = harness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      h.layer.respond(tx, buildResponse(register, 200));

      // Act
      const first = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      h.fake.advance(20_000);
      const second = h.layer.receiveRequest(retransmissionOf(register), 'flow-2', false);
      const other = h.layer.receiveRequest(buildRequest(), 'flow-1', false);

      // Assess
      expect(first).toEqual({ kind: 'absorbed' });
      expect(second).toEqual({ kind: 'absorbed' });
      expect(other.kind).toBe('new');
      expect(h.sent).toHaveLength(3);
      // The same bytes: the one encoding's memory, not a copy.
      const regions = h.sent.map(({ encoded: { bytes } }) => [bytes.buffer, bytes.byteOffset, bytes.byteLength]);
      expect(new Set(regions.map(([buffer]) => buffer)).size).toBe(1);
      expect(regions.every(([, offset, length]) => offset === regions[0]![1] && length === regions[0]![2])).toBe(true);
      expect(new TextDecoder().decode(h.sent[2]!.encoded.bytes)).toBe('SIP/2.0 200 #1');
      expect(h.sent.map((entry) => entry.encoded.target)).toEqual(['routed:flow-1', 'routed:flow-1', 'routed:flow-1']);
      expect(h.unencoded).toEqual([]);
      expect(tx.state).toBe('Completed');
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 2, indexedKeys: 2, terminated: 0 });
    });

    it('§17.2.2: Timer J (64·T1) ends it: a request arriving after it is a new transaction', () => {
      // Prepare
      const h = harness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      h.layer.respond(tx, buildResponse(register, 200));
      const timersWhileCompleted = h.fake.pendingTimerCount();

      // Act
      h.fake.advance(31_999);
      const beforeJ = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      h.fake.advance(1);
      const statsAfterJ = h.layer.stats();
      const timersAfterJ = h.fake.pendingTimerCount();
      const afterJ = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);

      // Assess
      // The completed transactions' Timer J queue, and the TU-cap queue (its entry is passed by when due).
      expect(timersWhileCompleted).toBe(2);
      expect(beforeJ).toEqual({ kind: 'absorbed' });
      expect(tx.state).toBe('Terminated');
      expect(statsAfterJ).toMatchObject({ serverTransactions: 0, indexedKeys: 0, terminated: 1, forcedTerminations: 0 });
      expect(timersAfterJ).toBe(0);
      expect(afterJ.kind).toBe('new');
    });

    it('§17.2.2: with timerBucketMs, Timer J of many transactions ends at the slot end, never early, on the FIFO timer', () => {
      // Prepare
      const h = harness({ timerBucketMs: 100 });
      h.fake.advance(1);
      const registers: TestMessage[] = [];
      for (let index = 0; index < 10; index += 1) {
        const register = buildRequest();
        h.layer.respond(newServerTransaction(h.layer.receiveRequest(register, 'flow', false)), buildResponse(register, 200));
        registers.push(register);
        h.fake.advance(9);
      }
      // Completed at 1,000,001 … 1,000,082 ms: Timer J is due by 1,032,082, the slot ends at 1,032,100.
      const timers = h.fake.pendingTimerCount();

      // Act
      h.fake.advance(1_032_099 - h.fake.nowMs());
      const liveBeforeSlotEnd = h.layer.stats().serverTransactions;
      const lastBeforeSlotEnd = h.layer.receiveRequest(retransmissionOf(registers[9]!), 'flow', false);
      h.fake.advance(1);

      // Assess
      // The Timer J queue's timer and the TU-cap queue's (its entries are passed by when due).
      expect(timers).toBe(2);
      expect(liveBeforeSlotEnd).toBe(10);
      expect(lastBeforeSlotEnd).toEqual({ kind: 'absorbed' });
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 0, indexedKeys: 0, terminated: 10 });
    });

    it('§17.2.2: a wall clock stepped back or forward neither ends it early nor holds it longer (Timer J runs on monotonic time)', () => {
      // Prepare
      const clock = new SteppableClock(new FakeClock(1_000_000));
      const h = harness({ clock });
      const early = buildRequest();
      h.layer.respond(newServerTransaction(h.layer.receiveRequest(early, 'flow', false)), buildResponse(early, 200));
      clock.fake.advance(1_000);
      clock.stepWallClock(-10_000);
      const late = buildRequest();
      h.layer.respond(newServerTransaction(h.layer.receiveRequest(late, 'flow', false)), buildResponse(late, 200));
      clock.stepWallClock(+60_000);

      // Act
      clock.fake.advance(30_999);
      const earlyJustBeforeJ = h.layer.receiveRequest(retransmissionOf(early), 'flow', false);
      clock.fake.advance(1);
      const earlyAtJ = h.layer.receiveRequest(retransmissionOf(early), 'flow', false);
      const lateBeforeJ = h.layer.receiveRequest(retransmissionOf(late), 'flow', false);
      clock.fake.advance(1_000);
      const lateAtJ = h.layer.receiveRequest(retransmissionOf(late), 'flow', false);

      // Assess
      expect(earlyJustBeforeJ).toEqual({ kind: 'absorbed' });
      expect(earlyAtJ.kind).toBe('new');
      expect(lateBeforeJ).toEqual({ kind: 'absorbed' });
      expect(lateAtJ.kind).toBe('new');
    });

    it('discards a second final response from the TU (§17.2.2)', () => {
      // Prepare
      const h = harness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow', false));
      h.layer.respond(tx, buildResponse(register, 200));

      // Act
      const second = h.layer.respond(tx, buildResponse(register, 500));

      // Assess
      expect(second).toBe(false);
      expect(h.sent).toHaveLength(1);
    });
  });

  describe('TU cap of non-INVITE server transactions (a queue, not a timer each)', () => {
    it('answers 408 for a TU that never answers, at its cap; the cap of an answered transaction does nothing, even to a new transaction with its key', () => {
      // Prepare
      const h = harness({ tuCapMs: 40_000 });
      const register = buildRequest();
      h.layer.respond(newServerTransaction(h.layer.receiveRequest(register, 'flow', false)), buildResponse(register, 200));
      h.fake.advance(33_000);
      // Timer J ended the first transaction: the same request is new now, and its TU never answers.
      const again = newServerTransaction(h.layer.receiveRequest(retransmissionOf(register), 'flow', false));

      // Act
      h.fake.advance(7_000);
      const sentAtFirstCap = h.sent.length;
      const stateAtFirstCap = again.state;
      h.fake.advance(32_999);
      const stateBeforeOwnCap = again.state;
      h.fake.advance(1);

      // Assess
      expect(sentAtFirstCap).toBe(1);
      expect(stateAtFirstCap).toBe('Trying');
      expect(stateBeforeOwnCap).toBe('Trying');
      expect(h.sent.map((entry) => new TextDecoder().decode(entry.encoded.bytes))).toEqual(['SIP/2.0 200 #1', 'SIP/2.0 408 #2']);
      expect(again.state).toBe('Completed');
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 1, forcedTerminations: 0 });
    });
  });

  describe('TU cap queue robustness', () => {
    it('a listener that throws at one TU cap does not stop the other caps of the slot or later ones', () => {
      // Prepare
      const clock = new FakeClock(1_000_000);
      const answered: number[] = [];
      const layer = new TransactionLayer<TestMessage, string>({
        clock,
        codec: testCodec,
        send: (message) => answered.push(message.status),
        timerBucketMs: 100,
        serverListener: {
          onTuTimeout: () => {
            throw new Error('listener failed');
          },
        },
      });
      layer.receiveRequest(buildRequest({ method: 'MESSAGE' }), 'flow', false);
      layer.receiveRequest(buildRequest({ method: 'MESSAGE' }), 'flow', false);
      clock.advance(1_000);
      layer.receiveRequest(buildRequest({ method: 'MESSAGE' }), 'flow', false);

      // Act
      const firstSlot = (): void => clock.advance(31_100);
      // Assess
      expect(firstSlot).toThrow('listener failed');
      expect(answered).toEqual([408, 408]);
      expect(() => clock.advance(1_000)).toThrow('listener failed');
      expect(answered).toEqual([408, 408, 408]);
    });
  });

  describe('Method: reportTransportError', () => {
    it('§17.2.4: a late failure of the final response ends it; the next retransmission is new', () => {
      // Prepare
      const h = harness();
      const register = buildRequest();
      h.layer.respond(newServerTransaction(h.layer.receiveRequest(register, 'flow', false)), buildResponse(register, 200));

      // Act
      h.layer.reportTransportError(h.sent[0]!.ref);
      const stats = h.layer.stats();
      const next = h.layer.receiveRequest(retransmissionOf(register), 'flow', false);

      // Assess
      expect(stats).toMatchObject({ serverTransactions: 0, indexedKeys: 0, terminated: 1 });
      expect(next.kind).toBe('new');
    });

    it('§17.2.4: a late failure of a re-sent response, or a re-send that throws, ends it', () => {
      // Prepare
      const late = harness();
      const lateRegister = buildRequest();
      late.layer.respond(newServerTransaction(late.layer.receiveRequest(lateRegister, 'flow', false)), buildResponse(lateRegister, 200));
      late.layer.receiveRequest(retransmissionOf(lateRegister), 'flow', false);
      const throwing = harness({ throwOnResend: true });
      const throwingRegister = buildRequest();
      throwing.layer.respond(newServerTransaction(throwing.layer.receiveRequest(throwingRegister, 'flow', false)), buildResponse(throwingRegister, 200));

      // Act
      late.layer.reportTransportError(late.sent[1]!.ref);
      late.layer.reportTransportError(late.sent[1]!.ref);
      const throwingResult = throwing.layer.receiveRequest(retransmissionOf(throwingRegister), 'flow', false);

      // Assess
      expect(late.layer.stats()).toMatchObject({ serverTransactions: 0, indexedKeys: 0, terminated: 1 });
      expect(late.layer.receiveRequest(retransmissionOf(lateRegister), 'flow', false).kind).toBe('new');
      expect(throwingResult).toEqual({ kind: 'absorbed' });
      expect(throwing.layer.stats()).toMatchObject({ serverTransactions: 0, indexedKeys: 0, terminated: 1 });
    });
  });

  describe('Reliable transports', () => {
    it('§17.2.2: Timer J is zero over TCP: nothing is kept after the final response', () => {
      // Prepare
      const h = harness({ timerBucketMs: 100 });
      const register = buildRequest({ transport: 'TCP' });
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'conn', true));

      // Act
      h.layer.respond(tx, buildResponse(register, 200));

      // Assess
      expect(tx.state).toBe('Terminated');
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 0, indexedKeys: 0, terminated: 1 });
      expect(h.layer.receiveRequest(retransmissionOf(register), 'conn', true).kind).toBe('new');
    });
  });

  describe('Method: close', () => {
    it('ends every transaction and stops every timer, without sending', () => {
      // Prepare
      const h = harness({ timerBucketMs: 100 });
      const completed = buildRequest();
      h.layer.respond(newServerTransaction(h.layer.receiveRequest(completed, 'flow', false)), buildResponse(completed, 200));
      h.layer.receiveRequest(buildRequest(), 'flow', false);
      h.layer.receiveRequest(buildRequest({ method: 'INVITE' }), 'flow', false);
      h.layer.sendRequest(buildRequest({ sentBy: 'gw.example:5060' }), 'upstream', false, { onResponse: () => undefined });
      const sentBefore = h.sent.length + h.unencoded.length;

      // Act
      h.layer.close();
      h.fake.advance(600_000);

      // Assess
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 0, clientTransactions: 0, indexedKeys: 0 });
      expect(h.fake.pendingTimerCount()).toBe(0);
      expect(h.sent.length + h.unencoded.length).toBe(sentBefore);
      expect(h.layer.receiveRequest(retransmissionOf(completed), 'flow', false).kind).toBe('new');
    });
  });
});
