import {
  CONTRACT_VERSION,
  type LocalResponse,
  type RegisterDecision,
  type RegisterReplyDecision,
  type RegisterReplyRequest,
  type RegisterRequest,
} from '../../../functions/core/contract';
import type { DecisionInvoker } from '../../../sip-gateway/src/decision/decision-invoker';
import { RegisterProxy, type RegisterMessages } from '../../../sip-gateway/src/proxy/register-proxy';
import type { ClientTransactionCallbacks, Transaction } from '../../../sip-gateway/src/transaction/transaction-layer';
import { ManualClock, settle } from '../decision/manual-clock';

/** A message of the fake codec: a label that says what was built from what. */
interface Msg {
  label: string;
  status?: number;
}

const flow = { transport: 'udp' as const, remoteAddress: '127.0.0.2', remotePort: 5062, localAddress: '127.0.0.1', localPort: 5060, gatewayId: 'gw' };
const local = (status: number, reason = 'x'): LocalResponse => ({ status, reason, headers: [], toTag: 't' });
const context = { version: CONTRACT_VERSION as typeof CONTRACT_VERSION, aor: 'alice@example.com', relayId: 'r1', mode: 1 as const };
const relayInstructions = { requestUri: 'sip:registrar.example.net', removeHeaders: [], addHeaders: [], prependPath: [], sourceUri: 'sip:127.0.0.1:5060' };

const messages: RegisterMessages<Msg> = {
  toRegisterRequest: (request) =>
    request.label === 'bad'
      ? { error: local(400, 'Call-ID header not found') }
      : ({ version: CONTRACT_VERSION, callId: request.label } as unknown as RegisterRequest),
  localResponse: (request, response) => ({ label: `local ${response.status} for ${request.label}`, status: response.status }),
  relayRequest: (request, _relay, branch) => ({ label: `relay of ${request.label} branch ${branch}` }),
  status: (response) => response.status ?? 0,
  finalOutcome: (response, sentAtMs, receivedAtMs) => ({ kind: 'final', status: response.status ?? 0, contacts: [], receivedAtMs, sentAtMs }),
  forwardResponse: (response) => ({ label: `forwarded ${response.label}`, status: response.status }),
  rewriteResponse: (response, _remove, add) => ({ label: `rewritten ${response.label} +${add.length}`, status: response.status }),
};

class FakeTransactions {
  readonly responses: Msg[] = [];
  readonly sent: { request: Msg; target: string; callbacks: ClientTransactionCallbacks<Msg, string> }[] = [];
  respond(_transaction: Transaction<Msg, string>, response: Msg): boolean {
    this.responses.push(response);
    return true;
  }
  sendRequest(request: Msg, target: string, _reliable: boolean, callbacks: ClientTransactionCallbacks<Msg, string>): Transaction<Msg, string> {
    this.sent.push({ request, target, callbacks });
    return {} as Transaction<Msg, string>;
  }
}

class FakeInvoker implements DecisionInvoker {
  registerCalls: RegisterRequest[] = [];
  replyCalls: RegisterReplyRequest[] = [];
  constructor(private readonly decision: RegisterDecision, private readonly reply: RegisterReplyDecision = { kind: 'forward-unchanged' }) {}
  decideRegister(request: RegisterRequest): Promise<RegisterDecision> {
    this.registerCalls.push(request);
    return Promise.resolve(this.decision);
  }
  decideRegisterReply(request: RegisterReplyRequest): Promise<RegisterReplyDecision> {
    this.replyCalls.push(request);
    return Promise.resolve(this.reply);
  }
  lookup(): never {
    throw new Error('not used');
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
}

describe('Class: RegisterProxy', () => {
  let clock: ManualClock;
  let transactions: FakeTransactions;

  function setup(invoker: FakeInvoker): RegisterProxy<Msg, string> {
    return new RegisterProxy<Msg, string>({
      invoker,
      transactions,
      messages,
      resolveUpstream: (nextHop) => ({ target: `to ${nextHop}`, isReliable: false, viaTransport: 'UDP' }),
      clock,
      upstreamTimeoutMs: 10_000,
      retryAfterMs: 30_000,
      newBranch: () => 'b1',
      newToTag: () => 'tag',
    });
  }

  const server = (label: string): Transaction<Msg, string> => ({ request: { label } }) as Transaction<Msg, string>;

  beforeEach(() => {
    clock = new ManualClock();
    transactions = new FakeTransactions();
  });

  it('REG-10: an absorb decision is answered locally after one decision', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'absorb', response: local(200) });

    // Act
    await setup(invoker).handle(server('c1'), flow, 5);

    // Assess
    expect(invoker.registerCalls).toHaveLength(1);
    expect(transactions.responses).toEqual([{ label: 'local 200 for c1', status: 200 }]);
    expect(transactions.sent).toEqual([]);
  });

  it('ERR-6: a REGISTER failing the gateway checks is answered without a decision', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'absorb', response: local(200) });

    // Act
    await setup(invoker).handle(server('bad'), flow, 5);

    // Assess
    expect(invoker.registerCalls).toHaveLength(0);
    expect(transactions.responses).toEqual([{ label: 'local 400 for bad', status: 400 }]);
  });

  it('FWD-1: a forward decision relays statefully upstream with a fresh cookie branch', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'forward', relay: relayInstructions, context });

    // Act
    void setup(invoker).handle(server('c1'), flow, 5);
    await settle();

    // Assess
    expect(transactions.sent.map((s) => [s.request.label, s.target])).toEqual([['relay of c1 branch z9hG4bKb1', 'to sip:registrar.example.net']]);
    expect(transactions.responses).toEqual([]);
  });

  it('RPL-7: an upstream 2xx goes through register-reply and the rewritten response reaches the UA', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'forward', relay: relayInstructions, context }, { kind: 'rewrite', removeHeaders: ['Contact'], addHeaders: [['Contact', '<sip:a@b>;expires=60']] });
    const done = setup(invoker).handle(server('c1'), flow, 5);
    await settle();

    // Act
    clock.advance(40);
    transactions.sent[0]!.callbacks.onResponse({ label: '200', status: 200 }, {} as Transaction<Msg, string>);
    await done;

    // Assess
    expect(invoker.replyCalls).toEqual([{ version: CONTRACT_VERSION, context, outcome: { kind: 'final', status: 200, contacts: [], sentAtMs: 0, receivedAtMs: 40 } }]);
    expect(transactions.responses).toEqual([{ label: 'rewritten 200 +1', status: 200 }]);
  });

  it('RPL-1: 100 is dropped, 180 forwarded, a 401 forwarded unchanged then reported', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'forward', relay: relayInstructions, context });
    const done = setup(invoker).handle(server('c1'), flow, 5);
    await settle();
    const { onResponse } = transactions.sent[0]!.callbacks;

    // Act
    onResponse({ label: '100', status: 100 }, {} as Transaction<Msg, string>);
    onResponse({ label: '180', status: 180 }, {} as Transaction<Msg, string>);
    onResponse({ label: '401', status: 401 }, {} as Transaction<Msg, string>);
    await done;

    // Assess
    expect(transactions.responses.map((r) => r.label)).toEqual(['forwarded 180', 'forwarded 401']);
    expect(invoker.replyCalls.map((c) => c.outcome)).toEqual([expect.objectContaining({ kind: 'final', status: 401 })]);
  });

  it('RPL-9: no final response within upstreamTimeout gives the decision 504; a late 200 is ignored (RPL-2)', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'forward', relay: relayInstructions, context }, { kind: 'respond', response: local(504) });
    const done = setup(invoker).handle(server('c1'), flow, 5);
    await settle();

    // Act
    clock.advance(10_000);
    await done;
    transactions.sent[0]!.callbacks.onResponse({ label: '200', status: 200 }, {} as Transaction<Msg, string>);
    await settle();

    // Assess
    expect(invoker.replyCalls.map((c) => c.outcome)).toEqual([{ kind: 'timeout', atMs: 10_000 }]);
    expect(transactions.responses).toEqual([{ label: 'local 504 for c1', status: 504 }]);
  });

  it('RPL-9: a transport failure is reported and answered 503 even without a usable decision', async () => {
    // Prepare
    const invoker = new FakeInvoker({ kind: 'forward', relay: relayInstructions, context }, { kind: 'forward-unchanged' });
    const done = setup(invoker).handle(server('c1'), flow, 5);
    await settle();

    // Act
    transactions.sent[0]!.callbacks.onTransportError!({} as Transaction<Msg, string>);
    await done;

    // Assess
    expect(invoker.replyCalls.map((c) => c.outcome.kind)).toEqual(['transport-error']);
    expect(transactions.responses).toEqual([{ label: 'local 503 for c1', status: 503 }]);
  });
});
