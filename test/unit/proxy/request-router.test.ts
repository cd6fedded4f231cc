import type { LookupDecision, LookupTarget } from '../../../functions/core/contract';
import { createFlowToken } from '../../../functions/core/token';
import type { DecisionInvoker } from '../../../sip-gateway/src/decision/decision-invoker';
import { RequestRouter, type BranchTarget } from '../../../sip-gateway/src/proxy/request-router';
import { createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';
import type { ClientTransactionCallbacks, Transaction } from '../../../sip-gateway/src/transaction/transaction-layer';
import type { Flow } from '../../../sip-gateway/src/transport/flow';
import { ManualClock, settle } from '../decision/manual-clock';

const SECRET = 'router-test-secret';
const ADVERTISED = 'sip:203.0.113.10:5060';
const deviceFlow: Flow = { transport: 'udp', localAddress: '203.0.113.10', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 5062 };
const upstreamFlow: Flow = { transport: 'udp', localAddress: '203.0.113.10', localPort: 5060, remoteAddress: '198.51.100.1', remotePort: 5060 };
const deviceToken = createFlowToken(SECRET, { ...deviceFlow, gatewayId: 'gw' });

function request(lines: string[]): SipMessage {
  return parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n')));
}

function invite(extra: string[] = [], maxForwards = 70, toTag?: string): SipMessage {
  return request([
    'INVITE sip:alice@192.0.2.7:5062 SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKup1;received=198.51.100.1',
    `Max-Forwards: ${maxForwards}`,
    ...extra,
    'From: <sip:bob@example.com>;tag=b1',
    `To: <sip:alice@example.com>${toTag === undefined ? '' : `;tag=${toTag}`}`,
    'Call-ID: call1',
    'CSeq: 1 INVITE',
  ]);
}

class FakeTransactions {
  readonly responses: SipMessage[] = [];
  readonly sent: { request: SipMessage; target: BranchTarget; callbacks: ClientTransactionCallbacks<SipMessage, BranchTarget> }[] = [];
  readonly cancelled: number[] = [];
  respond(_t: Transaction<SipMessage, BranchTarget>, response: SipMessage): boolean {
    this.responses.push(response);
    return true;
  }
  sendRequest(req: SipMessage, target: BranchTarget, _r: boolean, callbacks: ClientTransactionCallbacks<SipMessage, BranchTarget>): Transaction<SipMessage, BranchTarget> {
    this.sent.push({ request: req, target, callbacks });
    return { id: this.sent.length - 1 } as Transaction<SipMessage, BranchTarget>;
  }
  cancel(invite: Transaction<SipMessage, BranchTarget>): void {
    this.cancelled.push(invite.id);
  }
}

function invokerAnswering(decision: LookupDecision): DecisionInvoker {
  return {
    lookup: () => Promise.resolve(decision),
    decideRegister: () => Promise.reject(new Error('unused')),
    decideRegisterReply: () => Promise.reject(new Error('unused')),
    drain: () => Promise.resolve(),
  };
}

const target = (port: number): LookupTarget => ({
  requestUri: `sip:alice@192.0.2.7:${port}`,
  routeSet: [],
  flow: { ...deviceFlow, remotePort: port, gatewayId: 'gw' },
  gatewayId: 'gw',
  aor: 'alice@example.com',
  contactId: String(port),
});

describe('Class: RequestRouter', () => {
  let transactions: FakeTransactions;
  let usable: boolean;

  function router(decision: LookupDecision = { kind: 'relay-upstream' }): RequestRouter {
    return new RequestRouter({
      invoker: invokerAnswering(decision),
      transactions,
      sendStateless: () => undefined,
      isFlowUsable: () => usable,
      resolveNextHop: (hop) => (hop.includes('198.51.100.1') ? { transport: 'udp', address: '198.51.100.1', port: 5060 } : undefined),
      clock: new ManualClock(),
      gatewayId: 'gw',
      advertisedUri: ADVERTISED,
      upstreamNextHop: '198.51.100.1:5060',
      tokenSecret: SECRET,
      inviteTimeoutMs: 180_000,
      retryAfterMs: 30_000,
      newBranch: () => 'r1',
      newToTag: () => 't1',
    });
  }

  const server = (req: SipMessage): Transaction<SipMessage, BranchTarget> => ({ id: 1, request: req }) as Transaction<SipMessage, BranchTarget>;

  beforeEach(() => {
    transactions = new FakeTransactions();
    usable = true;
  });

  it('RFC 3261 §16.3: Max-Forwards 0 gets 483 Too many hops', async () => {
    // Act
    await router().handleRequest(server(invite([], 0)), upstreamFlow, 0);

    // Assess
    expect(transactions.responses.map((r) => [r.status, r.header('P-Registrar-Error')])).toEqual([[483, 'Too many hops']]);
  });

  it('LKP-9: an in-dialog request from upstream with our Route goes over the named device flow, Route removed', async () => {
    // Prepare
    const bye = invite([`Route: <sip:${deviceToken}@203.0.113.10:5060;lr>`], 70, 'a1');

    // Act
    await router().handleRequest(server(bye), upstreamFlow, 0);

    // Assess
    expect(transactions.sent).toHaveLength(1);
    expect(transactions.sent[0]!.target).toEqual(deviceFlow);
    expect(transactions.sent[0]!.request.hasHeader('Route')).toBe(false);
    expect(transactions.sent[0]!.request.maxForwards()).toBe(69);
    expect(transactions.sent[0]!.request.topVia()?.host).toBe('203.0.113.10');
  });

  it('LKP-9: arriving over the named flow, it goes on to the next Route', async () => {
    // Prepare
    const bye = invite([`Route: <sip:${deviceToken}@203.0.113.10:5060;lr>`, 'Route: <sip:198.51.100.1:5060;lr>'], 70, 'a1');

    // Act
    await router().handleRequest(server(bye), deviceFlow, 0);

    // Assess
    expect(transactions.sent[0]!.target).toEqual({ transport: 'udp', address: '198.51.100.1', port: 5060 });
    expect(transactions.sent[0]!.request.headerValues('Route')).toEqual(['<sip:198.51.100.1:5060;lr>']);
  });

  it('LKP-9: a vanished flow gives 480 Flow unavailable', async () => {
    // Prepare
    usable = false;
    const bye = invite([`Route: <sip:${deviceToken}@203.0.113.10:5060;lr>`], 70, 'a1');

    // Act
    await router().handleRequest(server(bye), upstreamFlow, 0);

    // Assess
    expect(transactions.responses.map((r) => [r.status, r.header('P-Registrar-Error')])).toEqual([[480, 'Flow unavailable']]);
  });

  it('LKP-10: a token failing its MAC gets 403 and is not routed', async () => {
    // Prepare
    const forged = invite([`Route: <sip:${deviceToken.slice(0, -2)}xx@203.0.113.10:5060;lr>`], 70, 'a1');

    // Act
    await router().handleRequest(server(forged), upstreamFlow, 0);

    // Assess
    expect(transactions.responses.map((r) => r.status)).toEqual([403]);
    expect(transactions.sent).toEqual([]);
  });

  it('RFC 3261 §16.3 step 4: a request that comes back unchanged through us is a loop (482)', async () => {
    // Prepare
    await router().handleRequest(server(invite()), deviceFlow, 0);
    const looped = parseMessage(transactions.sent[0]!.request.serialize());

    // Act
    await router().handleRequest(server(looped), upstreamFlow, 0);

    // Assess
    expect(transactions.responses.map((r) => r.status)).toEqual([482]);
  });

  it('LKP-4, LKP-9: each target gets its contact as Request-URI, over its flow, with a Record-Route naming that flow', async () => {
    // Prepare
    const fork = router({ kind: 'targets', groups: [[target(5062), target(5064)]], removeTopRoute: false });

    // Act
    await fork.handleRequest(server(invite()), upstreamFlow, 0);

    // Assess
    expect(transactions.sent.map((s) => s.request.requestUri)).toEqual(['sip:alice@192.0.2.7:5062', 'sip:alice@192.0.2.7:5064']);
    expect(transactions.sent.map((s) => (s.target as Flow).remotePort)).toEqual([5062, 5064]);
    expect(transactions.sent[0]!.request.headerValues('Record-Route')).toEqual([`<sip:${deviceToken}@203.0.113.10:5060;lr>`]);
  });

  it('LKP-6: all branches 401/407: one final response carrying every challenge', async () => {
    // Prepare
    const fork = router({ kind: 'targets', groups: [[target(5062), target(5064)]], removeTopRoute: false });
    await fork.handleRequest(server(invite()), upstreamFlow, 0);
    const [a, b] = transactions.sent;

    // Act
    a!.callbacks.onResponse(createResponse(a!.request, 401, 'Unauthorized', { toTag: 'x', headers: [['WWW-Authenticate', 'Digest realm="a", nonce="1"']] }), {} as never);
    b!.callbacks.onResponse(createResponse(b!.request, 407, 'Proxy Authentication Required', { toTag: 'y', headers: [['Proxy-Authenticate', 'Digest realm="b", nonce="2"']] }), {} as never);
    await settle();

    // Assess
    expect(transactions.responses).toHaveLength(1);
    const final = transactions.responses[0]!;
    expect(final.status).toBe(401);
    expect(final.headerValues('WWW-Authenticate')).toEqual(['Digest realm="a", nonce="1"']);
    expect(final.headerValues('Proxy-Authenticate')).toEqual(['Digest realm="b", nonce="2"']);
    expect(final.headerValues('Via')).toEqual(['SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKup1;received=198.51.100.1']);
  });

  it('LKP-6: a lone 503 goes upstream as 500', async () => {
    // Prepare
    const fork = router({ kind: 'targets', groups: [[target(5062)]], removeTopRoute: false });
    await fork.handleRequest(server(invite()), upstreamFlow, 0);
    const [a] = transactions.sent;

    // Act
    a!.callbacks.onResponse(createResponse(a!.request, 503, 'Service Unavailable', { toTag: 'x' }), {} as never);

    // Assess
    expect(transactions.responses.map((r) => r.status)).toEqual([500]);
  });

  it('LKP-7: CANCEL answers 200, CANCELs the branch, and 487 follows once it is final', async () => {
    // Prepare
    const fork = router({ kind: 'targets', groups: [[target(5062)]], removeTopRoute: false });
    const inviteTx = server(invite());
    await fork.handleRequest(inviteTx, upstreamFlow, 0);
    const cancel = request([
      'CANCEL sip:alice@192.0.2.7:5062 SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKup1',
      'Max-Forwards: 70',
      'From: <sip:bob@example.com>;tag=b1',
      'To: <sip:alice@example.com>',
      'Call-ID: call1',
      'CSeq: 1 CANCEL',
    ]);

    // Act
    fork.handleCancel({ id: 2, request: cancel } as Transaction<SipMessage, BranchTarget>, inviteTx);
    const [a] = transactions.sent;
    a!.callbacks.onResponse(createResponse(a!.request, 487, 'Request Terminated', { toTag: 'x' }), {} as never);

    // Assess
    expect(transactions.cancelled).toEqual([0]);
    expect(transactions.responses.map((r) => [r.status, r.cseq().method])).toEqual([[200, 'CANCEL'], [487, 'INVITE']]);
    expect(fork.pendingCount).toBe(0);
  });

  it('LKP-1: a device request for elsewhere is relayed upstream with a Record-Route naming its flow', async () => {
    // Prepare
    const message = request([
      'MESSAGE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKd1;received=192.0.2.7',
      'Max-Forwards: 70',
      'From: <sip:alice@example.com>;tag=a1',
      'To: <sip:bob@example.com>',
      'Call-ID: m1',
      'CSeq: 1 MESSAGE',
    ]);

    // Act
    await router({ kind: 'relay-upstream' }).handleRequest(server(message), deviceFlow, 0);

    // Assess
    expect(transactions.sent[0]!.request.requestUri).toBe('sip:bob@example.com');
    expect(transactions.sent[0]!.target).toEqual({ transport: 'udp', address: '198.51.100.1', port: 5060 });
    expect(transactions.sent[0]!.request.headerValues('Record-Route')).toEqual([`<sip:${deviceToken}@203.0.113.10:5060;lr>`]);
  });
});
