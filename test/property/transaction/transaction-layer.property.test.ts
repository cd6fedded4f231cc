import fc from 'fast-check';
import type { Transaction } from '../../../sip-gateway/src/transaction/transaction-layer';
import type { TransactionKind, TransactionStateName } from '../../../sip-gateway/src/transaction/types';
import {
  buildRequest,
  buildResponse,
  createLayerHarness,
  retransmissionOf,
  testCodec,
  type TestMessage,
} from '../../support/transaction-builders';

type Tx = Transaction<TestMessage, string>;

/** What the peer, the network or the TU does next to the one transaction under test. */
type Op =
  | { readonly op: 'advance'; readonly ms: number }
  /** Server: the request is retransmitted. Client: the last response is retransmitted. */
  | { readonly op: 'retransmit' }
  /** Server: the TU answers. Client: a response arrives. */
  | { readonly op: 'answer'; readonly status: number }
  | { readonly op: 'ack' }
  | { readonly op: 'transport-error' };

interface Scenario {
  readonly kind: TransactionKind;
  readonly reliable: boolean;
  readonly ops: readonly Op[];
}

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40_000 }).map((ms): Op => ({ op: 'advance', ms })) },
  { weight: 3, arbitrary: fc.constant<Op>({ op: 'retransmit' }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(100, 180, 200, 202, 302, 404, 486, 487, 503).map((status): Op => ({ op: 'answer', status })),
  },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'ack' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'transport-error' }) },
);

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  kind: fc.constantFrom<TransactionKind>('invite-client', 'non-invite-client', 'invite-server', 'non-invite-server'),
  reliable: fc.boolean(),
  ops: fc.array(opArbitrary, { maxLength: 30 }),
});

const WAITING: ReadonlySet<TransactionStateName> = new Set(['Calling', 'Trying', 'Proceeding']);

interface Observation {
  readonly violations: string[];
  readonly terminatedAtMs: number | undefined;
  readonly createdAtMs: number;
  readonly capMs: number;
  readonly tuDeliveries: number;
  readonly forced: number;
  readonly liveTransactions: number;
  readonly pendingTimers: number;
}

/** Runs one scenario, checking the per-step properties as it goes, then lets every timer run out. */
function runScenario(scenario: Scenario): Observation {
  const violations: string[] = [];
  let terminatedAtMs: number | undefined;
  let tx: Tx | undefined;
  const h = createLayerHarness({
    serverListener: {
      onTerminated: (ended) => {
        if (ended === tx) terminatedAtMs = h.clock.nowMs();
      },
    },
  });
  const isClient = scenario.kind.endsWith('client');
  const method = scenario.kind.startsWith('invite') ? 'INVITE' : 'REGISTER';
  const request = buildRequest({ method, transport: scenario.reliable ? 'TCP' : 'UDP' });
  let tuDeliveries = 0;
  let lastResponse: TestMessage | undefined;
  let finalSent: TestMessage | undefined;
  let checking = true;
  h.transport.observe = (message) => {
    if (!checking) return;
    checkSend(message, tx, isClient, terminatedAtMs, violations);
    // The TU's final response or the layer's own (TU cap) answer, whichever went out.
    if (!isClient && !message.isRequest && message.status >= 200) finalSent = message;
  };

  if (isClient) {
    tx = h.layer.sendRequest(request, 'peer', scenario.reliable, {
      onResponse: () => (tuDeliveries += 1),
      onTerminated: () => (terminatedAtMs = h.clock.nowMs()),
    });
  } else {
    const result = h.layer.receiveRequest(request, 'peer', scenario.reliable);
    if (result.kind !== 'new') throw new Error('first request must create a transaction');
    tx = result.transaction;
    tuDeliveries = 1;
  }

  const transaction: Tx = tx;
  for (const step of scenario.ops) {
    const stateBefore = transaction.state;
    const sentBefore = h.transport.sent.length;
    switch (step.op) {
      case 'advance':
        h.clock.advance(step.ms);
        break;
      case 'retransmit':
        if (isClient) {
          if (lastResponse !== undefined) h.layer.receiveResponse(retransmissionOf(lastResponse));
        } else {
          // A retransmission arriving after its transaction ended (§17.2.2 Timer J) legitimately starts a new one;
          // the scenario ends there, unchecked.
          if (stateBefore === 'Terminated') checking = false;
          const result = h.layer.receiveRequest(retransmissionOf(request), 'peer', scenario.reliable);
          if (stateBefore === 'Terminated') return finish();
          // GEN-6: while its transaction lives, a retransmission never reaches the TU as a new request.
          if (result.kind === 'new') tuDeliveries += 1;
        }
        checkCompletedResend(stateBefore, sentBefore);
        break;
      case 'answer': {
        const response = buildResponse(request, step.status, step.status === 100 ? undefined : 'uas');
        if (isClient) {
          lastResponse = response;
          h.layer.receiveResponse(response);
        } else {
          h.layer.respond(transaction, response);
        }
        break;
      }
      case 'ack':
        if (!isClient && finalSent !== undefined) h.layer.receiveRequest(testCodec.createAck(request, finalSent), 'peer', scenario.reliable);
        break;
      case 'transport-error':
        h.layer.reportTransportError(transaction);
        break;
    }
  }
  return finish();

  /** Property: each retransmission in Completed re-sends the final response (server) or the ACK (INVITE client). */
  function checkCompletedResend(stateBefore: TransactionStateName, sentBefore: number): void {
    if (stateBefore !== 'Completed') return;
    const resent = h.transport.sent.slice(sentBefore).map((r) => r.message);
    if (scenario.kind === 'invite-client') {
      // Only a retransmitted non-2xx final response is re-ACKed; anything else arriving in Completed is dropped.
      if (lastResponse === undefined || lastResponse.status < 300) return;
      if (resent.length !== 1 || resent[0]!.method !== 'ACK') violations.push(`Completed client re-sent ${resent.length} messages`);
    } else if (!isClient) {
      const last = finalSent;
      if (resent.length !== 1 || last === undefined || resent[0] !== last) {
        violations.push(`Completed server re-sent ${resent.map((m) => m.status).join(',')} for a retransmission`);
      }
    }
  }

  function finish(): Observation {
    h.clock.runAll();
    const stats = h.layer.stats();
    return {
      violations,
      terminatedAtMs,
      createdAtMs: transaction.createdAtMs,
      capMs: h.layer.lifetimeCapMs(scenario.kind),
      tuDeliveries,
      forced: stats.forcedTerminations,
      liveTransactions: stats.clientTransactions + stats.serverTransactions + stats.indexedKeys,
      pendingTimers: h.clock.pendingTimerCount(),
    };
  }
}

/**
 * "No retransmission after a final state": a client never sends its request once out of Calling/Trying/
 * Proceeding; a server sends nothing in Confirmed; nothing is sent after termination.
 */
function checkSend(
  message: TestMessage,
  tx: Tx | undefined,
  isClient: boolean,
  terminatedAtMs: number | undefined,
  violations: string[],
): void {
  if (terminatedAtMs !== undefined) violations.push(`sent ${message.method}/${message.status} after termination`);
  if (tx === undefined) return;
  if (isClient && message === tx.request && !WAITING.has(tx.state)) violations.push(`request re-sent in ${tx.state}`);
  if (!isClient && tx.state === 'Confirmed') violations.push('response sent in Confirmed');
}

describe('TransactionLayer properties', () => {
  it('every transaction terminates within its lifetime cap, nothing leaks, and no cap is ever forced', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        // Act
        const result = runScenario(scenario);
        // Assess
        expect(result.terminatedAtMs).toBeDefined();
        expect(result.terminatedAtMs! - result.createdAtMs).toBeLessThanOrEqual(result.capMs);
        expect(result.forced).toBe(0);
        expect(result.liveTransactions).toBe(0);
        expect(result.pendingTimers).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('no retransmission after a final state, and each retransmission in Completed re-sends the final response', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        // Act
        const result = runScenario(scenario);
        // Assess
        expect(result.violations).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('GEN-6: a server transaction passes its request to the TU exactly once', () => {
    fc.assert(
      fc.property(
        scenarioArbitrary.filter((s) => s.kind.endsWith('server')),
        (scenario) => {
          // Act
          const result = runScenario(scenario);
          // Assess
          expect(result.tuDeliveries).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
