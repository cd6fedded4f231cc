import { InvalidTimerSettingsError, InvalidTransactionRequestError } from '../../../sip-gateway/src/transaction/errors';
import type { ClientTransactionCallbacks, Transaction } from '../../../sip-gateway/src/transaction/transaction-layer';
import {
  buildRequest,
  buildResponse,
  createLayerHarness,
  newServerTransaction,
  retransmissionOf,
  testCodec,
  type TestMessage,
} from '../../support/transaction-builders';

type Tx = Transaction<TestMessage, string>;

/** Client callbacks that record every call as `event:status`. */
function recordingCallbacks(): { log: string[]; callbacks: ClientTransactionCallbacks<TestMessage, string> } {
  const log: string[] = [];
  return {
    log,
    callbacks: {
      onResponse: (response) => log.push(`response:${response.status}`),
      onTimeout: () => log.push('timeout'),
      onTransportError: () => log.push('transport-error'),
      onTerminated: () => log.push('terminated'),
    },
  };
}

const statusesSent = (h: ReturnType<typeof createLayerHarness>): number[] =>
  h.transport.sent.filter((r) => !r.message.isRequest).map((r) => r.message.status);

describe('Class: TransactionLayer', () => {
  describe('Method: receiveRequest / respond (server transactions)', () => {
    it('GEN-6: a suspended REGISTER reaches the TU once; retransmissions while pending get nothing', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      // Act
      const first = h.layer.receiveRequest(register, 'flow-1', false);
      h.clock.advance(500);
      const second = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      h.clock.advance(1000);
      const third = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      // Assess
      expect(first.kind).toBe('new');
      expect(second).toEqual({ kind: 'absorbed', transaction: newServerTransaction(first) });
      expect(third.kind).toBe('absorbed');
      expect(h.transport.sent).toEqual([]);
      expect(newServerTransaction(first).state).toBe('Trying');
    });

    it('GEN-6: a retransmitted REGISTER after the answer gets the same response again, not a new decision', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow-1', false));
      const ok = buildResponse(register, 200);
      // Act
      const sent = h.layer.respond(tx, ok);
      const again = h.layer.receiveRequest(retransmissionOf(register), 'flow-1', false);
      // Assess
      expect(sent).toBe(true);
      expect(again.kind).toBe('absorbed');
      expect(h.transport.sent.map((r) => [r.message, r.target])).toEqual([
        [ok, 'flow-1'],
        [ok, 'flow-1'],
      ]);
    });

    it('ends the non-INVITE server transaction 64·T1 after its final response over UDP, and at once over TCP', () => {
      // Prepare
      const h = createLayerHarness();
      const udp = buildRequest();
      const tcp = buildRequest({ transport: 'TCP' });
      const udpTx = newServerTransaction(h.layer.receiveRequest(udp, 'udp', false));
      const tcpTx = newServerTransaction(h.layer.receiveRequest(tcp, 'tcp', true));
      // Act
      h.layer.respond(udpTx, buildResponse(udp, 200));
      h.layer.respond(tcpTx, buildResponse(tcp, 200));
      const afterTcp = h.layer.stats().serverTransactions;
      h.clock.advance(31_999);
      const beforeJ = h.layer.stats().serverTransactions;
      h.clock.advance(1);
      // Assess
      expect([afterTcp, beforeJ, h.layer.stats().serverTransactions]).toEqual([1, 1, 0]);
      expect(h.serverEvents).toEqual([`terminated:${tcpTx.id}`, `terminated:${udpTx.id}`]);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('answers 408 itself when the TU leaves a non-INVITE request pending beyond 64·T1, then discards the TU answer', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow', false));
      // Act
      h.clock.advance(32_000);
      const late = h.layer.respond(tx, buildResponse(register, 200));
      // Assess
      expect(statusesSent(h)).toEqual([408]);
      expect(late).toBe(false);
      expect(h.serverEvents).toEqual([`tu-timeout:${tx.id}`]);
    });

    it('uses the injected TU-timeout response', () => {
      // Prepare
      const h = createLayerHarness({ createTuTimeoutResponse: (request) => testCodec.createResponse(request, 500, 'Busy') });
      const register = buildRequest();
      h.layer.receiveRequest(register, 'flow', false);
      // Act
      h.clock.advance(32_000);
      // Assess
      expect(h.transport.sent.map((r) => [r.message.status, r.message.reason])).toEqual([[500, 'Busy']]);
    });

    it('RFC 4320: refuses a TU 100 to a non-INVITE over UDP before T2, accepts it after', () => {
      // Prepare
      const h = createLayerHarness();
      const message = buildRequest({ method: 'MESSAGE' });
      const tx = newServerTransaction(h.layer.receiveRequest(message, 'flow', false));
      // Act
      const early = h.layer.respond(tx, buildResponse(message, 100));
      h.clock.advance(4000);
      const later = h.layer.respond(tx, buildResponse(message, 100));
      // Assess
      expect([early, later]).toEqual([false, true]);
      expect(tx.state).toBe('Proceeding');
    });

    it('sends 100 Trying for an INVITE at once, and re-sends it for a retransmitted INVITE', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE' });
      // Act
      h.layer.receiveRequest(invite, 'flow', false);
      const again = h.layer.receiveRequest(retransmissionOf(invite), 'flow', false);
      // Assess
      expect(again.kind).toBe('absorbed');
      expect(statusesSent(h)).toEqual([100, 100]);
    });

    it('does not send 100 Trying when configured to leave it to the TU', () => {
      // Prepare
      const h = createLayerHarness({ sendTryingForInvite: false });
      // Act
      h.layer.receiveRequest(buildRequest({ method: 'INVITE' }), 'flow', false);
      // Assess
      expect(h.transport.sent).toEqual([]);
    });

    it('retransmits a non-2xx INVITE response on Timer G until the ACK, which is absorbed, then ends after Timer I', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      const busy = buildResponse(invite, 486, 'uas-tag');
      h.layer.respond(tx, busy);
      // Act
      h.clock.advance(500 + 1000 + 2000);
      const ackResult = h.layer.receiveRequest(testCodec.createAck(invite, busy), 'flow', false);
      h.clock.advance(10_000);
      const afterI = tx.state;
      // Assess
      expect(statusesSent(h)).toEqual([100, 486, 486, 486, 486]);
      expect(ackResult).toEqual({ kind: 'absorbed', transaction: tx });
      expect(afterI).toBe('Terminated');
      expect(h.layer.stats().serverTransactions).toBe(0);
    });

    it('reports a timeout when no ACK arrives before Timer H', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      h.layer.respond(tx, buildResponse(invite, 404));
      // Act
      h.clock.advance(32_000);
      // Assess
      expect(h.serverEvents).toEqual([`timeout:${tx.id}`, `terminated:${tx.id}`]);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('RFC 6026: after a 2xx the INVITE retransmissions are absorbed, TU 2xx re-sends go out, and the ACK for 2xx is stateless', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      const ok = buildResponse(invite, 200, 'uas-tag');
      h.layer.respond(tx, ok);
      // Act
      const retransmitted = h.layer.receiveRequest(retransmissionOf(invite), 'flow', false);
      const resent = h.layer.respond(tx, ok);
      const ackFor2xx = h.layer.receiveRequest({ ...testCodec.createAck(invite, ok), via: { ...invite.via, branch: 'z9hG4bKnew' } }, 'flow', false);
      const sameBranchAck = h.layer.receiveRequest(testCodec.createAck(invite, ok), 'flow', false);
      h.clock.advance(32_000);
      // Assess
      expect(retransmitted.kind).toBe('absorbed');
      expect(resent).toBe(true);
      expect(statusesSent(h)).toEqual([100, 200, 200]);
      expect(ackFor2xx).toEqual({ kind: 'stateless' });
      expect(sameBranchAck).toEqual({ kind: 'stateless', transaction: tx });
      expect(tx.state).toBe('Terminated');
    });

    it('treats an ACK matching no transaction as stateless', () => {
      // Prepare
      const h = createLayerHarness();
      const ack = buildRequest({ method: 'ACK' });
      // Act
      const result = h.layer.receiveRequest(ack, 'flow', false);
      // Assess
      expect(result).toEqual({ kind: 'stateless' });
      expect(h.layer.stats().serverTransactions).toBe(0);
    });

    it('gives a CANCEL its own transaction and names the INVITE transaction it targets (§9.2)', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE' });
      const inviteTx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      // Act
      const result = h.layer.receiveRequest(testCodec.createCancel(invite), 'flow', false);
      const orphan = h.layer.receiveRequest(buildRequest({ method: 'CANCEL' }), 'flow', false);
      // Assess
      expect(result.kind).toBe('new');
      expect(result.kind === 'new' && result.cancels).toBe(inviteTx);
      expect(result.kind === 'new' && result.transaction).not.toBe(inviteTx);
      expect(orphan.kind === 'new' && orphan.cancels).toBeUndefined();
    });

    it('RFC 2543: matches retransmissions and the ACK of a request whose branch lacks the magic cookie', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE', branch: undefined, callId: 'old@host' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      const busy = buildResponse(invite, 486, 'uas-tag');
      h.layer.respond(tx, busy);
      // Act
      const again = h.layer.receiveRequest(retransmissionOf(invite), 'flow', false);
      const ack = h.layer.receiveRequest(testCodec.createAck(invite, busy), 'flow', false);
      const strangerAck = h.layer.receiveRequest(testCodec.createAck(invite, buildResponse(invite, 486, 'x')), 'flow', false);
      // Assess
      expect(again.kind).toBe('absorbed');
      expect(ack).toEqual({ kind: 'absorbed', transaction: tx });
      expect(tx.state).toBe('Confirmed');
      expect(strangerAck).toEqual({ kind: 'stateless' });
      expect(h.layer.stats().serverTransactions).toBe(1);
    });

    it('reports a send failure as a transport error and ends the server transaction', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      const tx = newServerTransaction(h.layer.receiveRequest(register, 'flow', false));
      h.transport.failWhen = () => true;
      // Act
      const sent = h.layer.respond(tx, buildResponse(register, 200));
      // Assess
      expect(sent).toBe(false);
      expect(h.serverEvents).toEqual([`transport-error:${tx.id}`, `terminated:${tx.id}`]);
      expect(h.layer.stats().serverTransactions).toBe(0);
      // Its entry in the shared TU-cap queue is passed by when it falls due: no event, no timer left.
      h.clock.advance(32_000);
      expect(h.serverEvents).toEqual([`transport-error:${tx.id}`, `terminated:${tx.id}`]);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('names the transaction on every send, so a failure found later can be reported on it', () => {
      // Prepare
      const h = createLayerHarness();
      const invite = buildRequest({ method: 'INVITE' });
      const tx = newServerTransaction(h.layer.receiveRequest(invite, 'flow', false));
      h.layer.respond(tx, buildResponse(invite, 486));
      // Act
      h.layer.reportTransportError(h.transport.sent[1]!.transaction);
      h.clock.advance(10_000);
      // Assess
      expect(h.transport.sent.map((r) => r.transaction)).toEqual([tx, tx]);
      expect(h.serverEvents).toEqual([`transport-error:${tx.id}`, `terminated:${tx.id}`]);
      expect(statusesSent(h)).toEqual([100, 486]);
    });

    it('ends a transaction whose connection the transport reports lost', () => {
      // Prepare
      const h = createLayerHarness();
      const tx = newServerTransaction(h.layer.receiveRequest(buildRequest({ transport: 'TCP' }), 'conn', true));
      // Act
      h.layer.reportTransportError(tx);
      // Assess
      expect(tx.state).toBe('Terminated');
      expect(h.serverEvents).toEqual([`transport-error:${tx.id}`, `terminated:${tx.id}`]);
    });
  });

  describe('Method: sendRequest (client transactions)', () => {
    it('retransmits a REGISTER on Timer E over UDP and passes the final response up once', () => {
      // Prepare
      const h = createLayerHarness();
      const { log, callbacks } = recordingCallbacks();
      const register = buildRequest();
      const tx = h.layer.sendRequest(register, 'upstream', false, callbacks);
      // Act
      h.clock.advance(500 + 1000 + 2000);
      const matched = h.layer.receiveResponse(buildResponse(register, 200));
      const duplicate = h.layer.receiveResponse(buildResponse(register, 200));
      h.clock.advance(5000);
      // Assess
      expect(h.transport.sent.map((r) => r.atMs - 1_000_000)).toEqual([0, 500, 1500, 3500]);
      expect(matched).toEqual({ kind: 'matched', transaction: tx });
      expect(duplicate.kind).toBe('matched');
      expect(log).toEqual(['response:200', 'terminated']);
      expect(h.layer.stats().clientTransactions).toBe(0);
    });

    it('does not retransmit over a reliable transport and times out after 64·T1', () => {
      // Prepare
      const h = createLayerHarness();
      const { log, callbacks } = recordingCallbacks();
      h.layer.sendRequest(buildRequest({ transport: 'TCP' }), 'upstream', true, callbacks);
      // Act
      h.clock.advance(32_000);
      // Assess
      expect(h.transport.sent).toHaveLength(1);
      expect(log).toEqual(['timeout', 'terminated']);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('lets a response that matches no client transaction through as stateless', () => {
      // Prepare
      const h = createLayerHarness();
      // Act
      const result = h.layer.receiveResponse(buildResponse(buildRequest({ method: 'INVITE' }), 200));
      // Assess
      expect(result).toEqual({ kind: 'stateless' });
    });

    it('ACKs a non-2xx INVITE response, re-ACKs its retransmissions, and tells the TU once', () => {
      // Prepare
      const h = createLayerHarness();
      const { log, callbacks } = recordingCallbacks();
      const invite = buildRequest({ method: 'INVITE' });
      h.layer.sendRequest(invite, 'branch-1', false, callbacks);
      const busy = buildResponse(invite, 486, 'uas');
      // Act
      h.layer.receiveResponse(busy);
      h.layer.receiveResponse(buildResponse(invite, 486, 'uas'));
      h.clock.advance(32_000);
      // Assess
      const acks = h.transport.filter((m) => m.method === 'ACK').map((r) => r.message);
      expect(acks).toHaveLength(2);
      expect(acks[0]).toEqual(testCodec.createAck(invite, busy));
      expect(log).toEqual(['response:486', 'terminated']);
    });

    it('RFC 6026: passes every 2xx of an INVITE to the TU until Timer M', () => {
      // Prepare
      const h = createLayerHarness();
      const { log, callbacks } = recordingCallbacks();
      const invite = buildRequest({ method: 'INVITE' });
      h.layer.sendRequest(invite, 'branch-1', false, callbacks);
      // Act
      h.layer.receiveResponse(buildResponse(invite, 180));
      h.layer.receiveResponse(buildResponse(invite, 200));
      h.clock.advance(1000);
      h.layer.receiveResponse(buildResponse(invite, 200));
      h.clock.advance(31_000);
      const afterM = h.layer.receiveResponse(buildResponse(invite, 200));
      // Assess
      expect(log).toEqual(['response:180', 'response:200', 'response:200', 'terminated']);
      expect(afterM).toEqual({ kind: 'stateless' });
      expect(h.transport.filter((m) => m.method === 'ACK')).toHaveLength(0);
    });

    it('times out an INVITE left in Proceeding for the INVITE client cap', () => {
      // Prepare
      const h = createLayerHarness({ limits: { inviteClientTimeoutMs: 200_000 } });
      const { log, callbacks } = recordingCallbacks();
      const invite = buildRequest({ method: 'INVITE' });
      h.layer.sendRequest(invite, 'b', false, callbacks);
      h.layer.receiveResponse(buildResponse(invite, 180));
      // Act
      h.clock.advance(199_999);
      const before = [...log];
      h.clock.advance(1);
      // Assess
      expect(before).toEqual(['response:180']);
      expect(log).toEqual(['response:180', 'timeout', 'terminated']);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('reports a failed first send as a transport error', () => {
      // Prepare
      const h = createLayerHarness();
      const { log, callbacks } = recordingCallbacks();
      h.transport.failWhen = () => true;
      // Act
      const tx = h.layer.sendRequest(buildRequest(), 'upstream', false, callbacks);
      // Assess
      expect(log).toEqual(['transport-error', 'terminated']);
      expect(tx.state).toBe('Terminated');
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it.each([
      ['an ACK', { method: 'ACK' }],
      ['a branch without the magic cookie', { branch: 'old-branch' }],
    ])('refuses %s', (_name, options) => {
      // Prepare
      const h = createLayerHarness();
      // Act
      const send = (): unknown => h.layer.sendRequest(buildRequest(options), 'x', false, recordingCallbacks().callbacks);
      // Assess
      expect(send).toThrow(InvalidTransactionRequestError);
    });

    it('refuses a second client transaction with the same branch and method', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      h.layer.sendRequest(register, 'x', false, recordingCallbacks().callbacks);
      // Act
      const send = (): unknown => h.layer.sendRequest(retransmissionOf(register), 'x', false, recordingCallbacks().callbacks);
      // Assess
      expect(send).toThrow(InvalidTransactionRequestError);
    });

    it('ERR-3: a throwing TU callback neither skips the other notifications nor leaves the transaction behind', () => {
      // Prepare
      const errors: unknown[] = [];
      const h = createLayerHarness({ onTuError: (error) => errors.push(error) });
      const log: string[] = [];
      const register = buildRequest();
      h.layer.sendRequest(register, 'upstream', true, {
        onResponse: () => {
          throw new Error('TU bug');
        },
        onTerminated: () => log.push('terminated'),
      });
      // Act
      const result = h.layer.receiveResponse(buildResponse(register, 200));
      // Assess
      expect(result.kind).toBe('matched');
      expect(log).toEqual(['terminated']);
      expect(errors).toEqual([new Error('TU bug')]);
      expect(h.layer.stats().clientTransactions).toBe(0);
    });

    it('rethrows a TU callback error to the caller when no onTuError is set, after finishing the step', () => {
      // Prepare
      const h = createLayerHarness();
      const register = buildRequest();
      h.layer.sendRequest(register, 'upstream', true, {
        onResponse: () => {
          throw new Error('TU bug');
        },
      });
      // Act
      const receive = (): unknown => h.layer.receiveResponse(buildResponse(register, 200));
      // Assess
      expect(receive).toThrow('TU bug');
      expect(h.layer.stats().indexedKeys).toBe(0);
    });

    it('lets the TU call back into the layer from a callback', () => {
      // Prepare
      const h = createLayerHarness();
      const upstreamRegister = buildRequest({ sentBy: '203.0.113.1:5060' });
      const deviceRegister = buildRequest();
      const serverTx = newServerTransaction(h.layer.receiveRequest(deviceRegister, 'device', false));
      const relayed = buildResponse(deviceRegister, 200);
      h.layer.sendRequest(upstreamRegister, 'upstream', false, {
        onResponse: () => h.layer.respond(serverTx, relayed),
      });
      // Act
      h.layer.receiveResponse(buildResponse(upstreamRegister, 200));
      // Assess
      expect(h.transport.filter((m) => m === relayed).map((r) => r.target)).toEqual(['device']);
    });
  });

  describe('Method: cancel (§9.1)', () => {
    function startInvite(h: ReturnType<typeof createLayerHarness>): { invite: TestMessage; tx: Tx } {
      const invite = buildRequest({ method: 'INVITE' });
      return { invite, tx: h.layer.sendRequest(invite, 'branch-target', false, recordingCallbacks().callbacks) };
    }

    const cancelsSent = (h: ReturnType<typeof createLayerHarness>) => h.transport.filter((m) => m.method === 'CANCEL');

    it('waits for a provisional response before sending the CANCEL', () => {
      // Prepare
      const h = createLayerHarness();
      const { invite, tx } = startInvite(h);
      // Act
      const result = h.layer.cancel(tx);
      const beforeProvisional = cancelsSent(h).length;
      h.layer.receiveResponse(buildResponse(invite, 180));
      // Assess
      expect(result).toEqual({ kind: 'deferred' });
      expect(beforeProvisional).toBe(0);
      expect(cancelsSent(h).map((r) => [r.message, r.target])).toEqual([
        [testCodec.createCancel(invite), 'branch-target'],
      ]);
    });

    it('sends the CANCEL at once in Proceeding, as its own transaction, only once', () => {
      // Prepare
      const h = createLayerHarness();
      const { invite, tx } = startInvite(h);
      h.layer.receiveResponse(buildResponse(invite, 100));
      const { log, callbacks } = recordingCallbacks();
      // Act
      const result = h.layer.cancel(tx, callbacks);
      const second = h.layer.cancel(tx);
      h.layer.receiveResponse(buildResponse(testCodec.createCancel(invite), 200));
      h.layer.receiveResponse(buildResponse(invite, 487));
      // Assess
      expect(result.kind).toBe('sent');
      expect(second).toEqual({ kind: 'not-sent' });
      expect(cancelsSent(h)).toHaveLength(1);
      expect(log).toEqual(['response:200']);
      expect(tx.state).toBe('Completed');
    });

    it('drops a deferred CANCEL when a final response comes first', () => {
      // Prepare
      const h = createLayerHarness();
      const { invite, tx } = startInvite(h);
      h.layer.cancel(tx);
      // Act
      h.layer.receiveResponse(buildResponse(invite, 486));
      h.layer.receiveResponse(buildResponse(invite, 180));
      // Assess
      expect(cancelsSent(h)).toHaveLength(0);
      expect(h.layer.cancel(tx)).toEqual({ kind: 'not-sent' });
    });
  });

  describe('Method: lifetimeCapMs', () => {
    it('bounds each kind by its longest FSM path plus the margin', () => {
      // Prepare
      const h = createLayerHarness();
      // Act
      const caps = (['non-invite-client', 'invite-client', 'non-invite-server', 'invite-server'] as const).map((kind) =>
        h.layer.lifetimeCapMs(kind),
      );
      // Assess
      expect(caps).toEqual([
        32_000 + 5000 + 5000,
        300_000 + 32_000 + 5000,
        32_000 + 32_000 + 5000,
        300_000 + 32_000 + 5000 + 5000,
      ]);
    });

    it('ends a non-INVITE server transaction stuck after its TU cap at the lifetime cap, counted from its creation', () => {
      // Prepare: the layer's own answer is a 100, which leaves the transaction in Proceeding (RFC 4320 §4.1 allows
      // it after T2), a state only the lifetime cap can end.
      const h = createLayerHarness({ createTuTimeoutResponse: (request) => buildResponse(request, 100) });
      const tx = newServerTransaction(h.layer.receiveRequest(buildRequest(), 'flow', false));
      const capMs = h.layer.lifetimeCapMs('non-invite-server');
      // Act
      h.clock.advance(32_000);
      const afterTuCap = tx.state;
      h.clock.advance(capMs - 32_000 - 1);
      const liveBeforeCap = h.layer.stats().serverTransactions;
      h.clock.advance(1);
      // Assess
      expect([afterTuCap, liveBeforeCap]).toEqual(['Proceeding', 1]);
      expect(h.serverEvents).toEqual([`tu-timeout:${tx.id}`, `timeout:${tx.id}`, `terminated:${tx.id}`]);
      expect(h.layer.stats()).toMatchObject({ serverTransactions: 0, forcedTerminations: 1 });
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('rejects a non-positive limit', () => {
      // Act
      const create = (): unknown => createLayerHarness({ limits: { inviteServerTuTimeoutMs: 0 } });
      // Assess
      expect(create).toThrow(InvalidTimerSettingsError);
    });
  });
});
