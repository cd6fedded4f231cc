import type { Transaction } from '../../../sip-gateway/src/transaction/transaction-layer';
import {
  buildRequest,
  buildResponse,
  createLayerHarness,
  retransmissionOf,
  testCodec,
  type TestMessage,
} from '../../support/transaction-builders';

type Tx = Transaction<TestMessage, string>;

/** One transaction starts per simulated millisecond: 100 s of traffic, tens of thousands live at once. */
const TRANSACTIONS = 100_000;
// A correctness test, not a benchmark: the generous timeout only keeps a loaded CI machine from failing it.
const TEST_TIMEOUT_MS = 120_000;

/**
 * One of twelve scenarios per transaction, covering every kind, both transports, and the ways a transaction
 * ends: a normal answer, no answer (Timers B/F/H, TU cap, INVITE client cap), CANCEL, and transport errors.
 */
function startScenario(
  h: ReturnType<typeof createLayerHarness>,
  index: number,
  later: (delayMs: number, fn: () => void) => void,
): void {
  const reliable = index % 7 === 0;
  const transport = reliable ? 'TCP' : 'UDP';
  const noop = { onResponse: () => undefined };
  switch (index % 12) {
    case 0:
    case 1: {
      // Suspended REGISTER answered after a delay, with retransmissions before and after the answer.
      const register = buildRequest({ transport });
      const result = h.layer.receiveRequest(register, 'device', reliable);
      const tx = (result as { transaction: Tx }).transaction;
      later(300, () => h.layer.receiveRequest(retransmissionOf(register), 'device', reliable));
      later(450, () => h.layer.respond(tx, buildResponse(register, 200)));
      later(900, () => h.layer.receiveRequest(retransmissionOf(register), 'device', reliable));
      return;
    }
    case 2: {
      // The TU never answers: the layer's TU cap answers.
      h.layer.receiveRequest(buildRequest({ transport, method: 'MESSAGE' }), 'device', reliable);
      return;
    }
    case 3: {
      // INVITE rejected and ACKed.
      const invite = buildRequest({ method: 'INVITE', transport });
      const tx = (h.layer.receiveRequest(invite, 'peer', reliable) as { transaction: Tx }).transaction;
      const busy = buildResponse(invite, 486, `t${index}`);
      later(20, () => h.layer.respond(tx, busy));
      later(600, () => h.layer.receiveRequest(testCodec.createAck(invite, busy), 'peer', reliable));
      return;
    }
    case 4: {
      // INVITE rejected, ACK lost: Timer H.
      const invite = buildRequest({ method: 'INVITE', transport });
      const tx = (h.layer.receiveRequest(invite, 'peer', reliable) as { transaction: Tx }).transaction;
      later(20, () => h.layer.respond(tx, buildResponse(invite, 404)));
      return;
    }
    case 5: {
      // INVITE accepted (RFC 6026 Accepted, Timer L) and CANCELled too late.
      const invite = buildRequest({ method: 'INVITE', transport });
      const tx = (h.layer.receiveRequest(invite, 'peer', reliable) as { transaction: Tx }).transaction;
      later(50, () => h.layer.respond(tx, buildResponse(invite, 200)));
      later(60, () => h.layer.receiveRequest(testCodec.createCancel(invite), 'peer', reliable));
      return;
    }
    case 6: {
      // Relayed REGISTER answered upstream.
      const register = buildRequest({ transport, sentBy: 'gw.example:5060' });
      h.layer.sendRequest(register, 'upstream', reliable, noop);
      later(700, () => h.layer.receiveResponse(buildResponse(register, 200)));
      later(800, () => h.layer.receiveResponse(buildResponse(register, 200)));
      return;
    }
    case 7: {
      // Upstream silent: Timer F.
      h.layer.sendRequest(buildRequest({ transport, method: 'MESSAGE', sentBy: 'gw.example:5060' }), 'upstream', reliable, noop);
      return;
    }
    case 8: {
      // Forked INVITE branch: ringing, CANCELled, 487.
      const invite = buildRequest({ method: 'INVITE', transport, sentBy: 'gw.example:5060' });
      const tx = h.layer.sendRequest(invite, 'device', reliable, noop);
      later(100, () => h.layer.receiveResponse(buildResponse(invite, 180)));
      later(200, () => h.layer.cancel(tx));
      later(300, () => h.layer.receiveResponse(buildResponse(testCodec.createCancel(invite), 200)));
      later(320, () => h.layer.receiveResponse(buildResponse(invite, 487)));
      return;
    }
    case 9: {
      // Forked INVITE branch answered 2xx twice (RFC 6026 Accepted, Timer M).
      const invite = buildRequest({ method: 'INVITE', transport, sentBy: 'gw.example:5060' });
      h.layer.sendRequest(invite, 'device', reliable, noop);
      later(1000, () => h.layer.receiveResponse(buildResponse(invite, 200)));
      later(1500, () => h.layer.receiveResponse(buildResponse(invite, 200)));
      return;
    }
    case 10: {
      // INVITE branch ringing forever: the INVITE client cap.
      const invite = buildRequest({ method: 'INVITE', transport, sentBy: 'gw.example:5060' });
      h.layer.sendRequest(invite, 'device', reliable, noop);
      later(100, () => h.layer.receiveResponse(buildResponse(invite, 180)));
      return;
    }
    default: {
      // The transport fails while answering.
      const register = buildRequest({ transport, callId: `fail-${index}` });
      const tx = (h.layer.receiveRequest(register, 'gone', reliable) as { transaction: Tx }).transaction;
      later(10, () => h.layer.respond(tx, buildResponse(register, 200)));
    }
  }
}

describe('TransactionLayer under volume', () => {
  it('drives 100,000 transactions and ends with empty tables and no pending timer', () => {
    // Prepare
    const h = createLayerHarness({ limits: { inviteClientTimeoutMs: 180_000, inviteServerTuTimeoutMs: 200_000 } });
    h.transport.failWhen = (message) => message.callId.startsWith('fail-') && !message.isRequest;
    const later = (delayMs: number, fn: () => void): void => void h.clock.setTimer(delayMs, fn);
    let peakLive = 0;
    // Act
    for (let index = 0; index < TRANSACTIONS; index++) {
      startScenario(h, index, later);
      h.clock.advance(1);
      if (index % 1000 === 0) {
        const stats = h.layer.stats();
        peakLive = Math.max(peakLive, stats.clientTransactions + stats.serverTransactions);
        h.transport.clear();
      }
    }
    h.clock.runAll();
    // Assess
    const stats = h.layer.stats();
    expect(peakLive).toBeGreaterThan(10_000);
    expect(stats.created).toBeGreaterThanOrEqual(TRANSACTIONS);
    expect(stats.clientTransactions).toBe(0);
    expect(stats.serverTransactions).toBe(0);
    expect(stats.indexedKeys).toBe(0);
    expect(stats.terminated).toBe(stats.created);
    expect(stats.forcedTerminations).toBe(0);
    expect(h.clock.pendingTimerCount()).toBe(0);
  }, TEST_TIMEOUT_MS);
});
