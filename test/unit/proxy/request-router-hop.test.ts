import type { LookupDecision, LookupTarget } from '../../../functions/core/contract';
import { verifyFlowToken } from '../../../functions/core/token';
import type { DecisionInvoker } from '../../../sip-gateway/src/decision/decision-invoker';
import { createHopToken, deriveHopKey, INTERNAL_HOP_HEADER, verifyHopToken } from '../../../sip-gateway/src/proxy/internal-hop';
import { RequestRouter, type BranchTarget } from '../../../sip-gateway/src/proxy/request-router';
import { createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';
import type { ClientTransactionCallbacks, Transaction } from '../../../sip-gateway/src/transaction/transaction-layer';
import type { Flow } from '../../../sip-gateway/src/transport/flow';
import { ManualClock, settle } from '../decision/manual-clock';

const SECRET = 'router-hop-secret';
const OWN_ID = '10.0.1.7:5090';
const OWNER_ID = '10.0.1.8:5090';
const deviceFlow: Flow = { transport: 'udp', localAddress: '10.0.1.8', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 5062 };
const upstreamFlow: Flow = { transport: 'udp', localAddress: '10.0.1.7', localPort: 5060, remoteAddress: '198.51.100.1', remotePort: 5060 };
const hopFlow: Flow = { transport: 'tcp', localAddress: '10.0.1.7', localPort: 5090, remoteAddress: '10.0.1.8', remotePort: 5090 };

function invite(extra: string[] = []): SipMessage {
  return parseMessage(Buffer.from([
    'INVITE sip:ct1@203.0.113.10:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKup1;received=198.51.100.1',
    'Max-Forwards: 70',
    ...extra,
    'From: <sip:bob@example.com>;tag=b1',
    'To: <sip:alice@example.com>',
    'Call-ID: call1',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')));
}

class FakeTransactions {
  readonly responses: SipMessage[] = [];
  readonly sent: { request: SipMessage; target: BranchTarget; callbacks: ClientTransactionCallbacks<SipMessage, BranchTarget> }[] = [];
  respond(_t: Transaction<SipMessage, BranchTarget>, response: SipMessage): boolean {
    this.responses.push(response);
    return true;
  }
  sendRequest(req: SipMessage, target: BranchTarget, _r: boolean, callbacks: ClientTransactionCallbacks<SipMessage, BranchTarget>): Transaction<SipMessage, BranchTarget> {
    this.sent.push({ request: req, target, callbacks });
    return { id: this.sent.length - 1 } as Transaction<SipMessage, BranchTarget>;
  }
  cancel(): void {}
}

function invokerAnswering(decision: LookupDecision): DecisionInvoker {
  return {
    lookup: () => Promise.resolve(decision),
    decideRegister: () => Promise.reject(new Error('unused')),
    decideRegisterReply: () => Promise.reject(new Error('unused')),
    drain: () => Promise.resolve(),
  };
}

const targetOwnedBy = (gatewayId: string): LookupTarget => ({
  requestUri: 'sip:alice@192.0.2.7:5062',
  routeSet: [],
  flow: { ...deviceFlow, gatewayId },
  gatewayId,
  aor: 'alice@example.com',
  contactId: 'ct1',
});

describe('Class: RequestRouter, internal hop (DESIGN §5)', () => {
  let transactions: FakeTransactions;

  function router(decision: LookupDecision, options: { gatewayId?: string; hop?: boolean } = {}): RequestRouter {
    return new RequestRouter({
      invoker: invokerAnswering(decision),
      transactions,
      sendStateless: () => undefined,
      isFlowUsable: () => true,
      resolveNextHop: () => undefined,
      clock: new ManualClock(),
      gatewayId: options.gatewayId ?? OWN_ID,
      advertisedUri: 'sip:203.0.113.10:5060',
      upstreamNextHop: '198.51.100.1:5060',
      tokenSecret: SECRET,
      inviteTimeoutMs: 180_000,
      retryAfterMs: 30_000,
      newBranch: () => 'r1',
      newToTag: () => 't1',
      ...(options.hop === false ? {} : { internalHop: { address: '10.0.1.7', port: 5090 } }),
    });
  }

  const server = (req: SipMessage): Transaction<SipMessage, BranchTarget> => ({ id: 1, request: req }) as Transaction<SipMessage, BranchTarget>;

  beforeEach(() => {
    transactions = new FakeTransactions();
  });

  it('PTH-3, LKP-4: a binding another instance owns is sent to that owner\'s internal port with a hop token naming the device flow', async () => {
    // Act
    await router({ kind: 'targets', groups: [[targetOwnedBy(OWNER_ID)]], removeTopRoute: false }).handleRequest(server(invite()), upstreamFlow, 0);

    // Assess
    expect(transactions.sent).toHaveLength(1);
    const { request, target } = transactions.sent[0]!;
    expect(target).toEqual(hopFlow);
    expect(request.requestUri).toBe('sip:alice@192.0.2.7:5062');
    expect(verifyHopToken(deriveHopKey(SECRET), request.header(INTERNAL_HOP_HEADER) ?? '')).toEqual({ gatewayId: OWNER_ID, flow: deviceFlow });
    // LKP-9: the Record-Route token names the owner's flow, so in-dialog requests find the owner too.
    const recordRoute = /sip:([^@]+)@/.exec(request.header('Record-Route') ?? '')?.[1] ?? '';
    expect(verifyFlowToken(SECRET, recordRoute)).toMatchObject({ gatewayId: OWNER_ID, remotePort: 5062 });
  });

  it.each([
    ['this instance owns the flow', { gatewayId: OWNER_ID }],
    ['no internal hop is configured (local mode)', { hop: false }],
  ])('PTH-3: sent directly on the device flow when %s', async (_name, options) => {
    // Act
    await router({ kind: 'targets', groups: [[targetOwnedBy(OWNER_ID)]], removeTopRoute: false }, options).handleRequest(server(invite()), upstreamFlow, 0);

    // Assess
    expect(transactions.sent[0]!.target).toEqual(deviceFlow);
    expect(transactions.sent[0]!.request.hasHeader(INTERNAL_HOP_HEADER)).toBe(false);
  });

  it.each(['onTimeout', 'onTransportError'] as const)('PTH-3: an owner that is gone (%s on the hop) ends the branch with 480', async (event) => {
    // Prepare
    await router({ kind: 'targets', groups: [[targetOwnedBy(OWNER_ID)]], removeTopRoute: false }).handleRequest(server(invite()), upstreamFlow, 0);

    // Act
    transactions.sent[0]!.callbacks[event]?.({ id: 0 } as Transaction<SipMessage, BranchTarget>);
    await settle();

    // Assess
    expect(transactions.responses.map((r) => [r.status, r.header('P-Registrar-Error')])).toEqual([[480, 'Flow unavailable']]);
  });

  it('DESIGN §5: the owner sends a hopped request on the device flow its token names, without the hop header', () => {
    // Prepare
    const token = createHopToken(deriveHopKey(SECRET), { ...deviceFlow, gatewayId: OWNER_ID });

    // Act
    router({ kind: 'relay-upstream' }, { gatewayId: OWNER_ID }).handleHopRequest(server(invite([`${INTERNAL_HOP_HEADER}: ${token}`])));

    // Assess
    expect(transactions.sent[0]!.target).toEqual(deviceFlow);
    expect(transactions.sent[0]!.request.hasHeader(INTERNAL_HOP_HEADER)).toBe(false);
    expect(transactions.sent[0]!.request.maxForwards()).toBe(69);
  });

  it('LKP-10: a hop header from outside the fleet never leaves with a forwarded request', async () => {
    // Act
    await router({ kind: 'targets', groups: [[targetOwnedBy(OWN_ID)]], removeTopRoute: false }).handleRequest(server(invite([`${INTERNAL_HOP_HEADER}: forged`])), upstreamFlow, 0);

    // Assess
    expect(transactions.sent[0]!.request.hasHeader(INTERNAL_HOP_HEADER)).toBe(false);
  });

  it('the owner relays the device\'s answer back on the hop transaction', async () => {
    // Prepare
    const token = createHopToken(deriveHopKey(SECRET), { ...deviceFlow, gatewayId: OWNER_ID });
    const hopped = invite([`${INTERNAL_HOP_HEADER}: ${token}`]);
    router({ kind: 'relay-upstream' }, { gatewayId: OWNER_ID }).handleHopRequest(server(hopped));

    // Act
    const sent = transactions.sent[0]!;
    sent.callbacks.onResponse(createResponse(sent.request, 200, 'OK', { toTag: 'd1' }), { id: 0 } as Transaction<SipMessage, BranchTarget>);
    await settle();

    // Assess
    expect(transactions.responses.map((r) => r.status)).toEqual([200]);
    expect(transactions.responses[0]!.topVia()?.branch).toBe('z9hG4bKup1');
  });
});
