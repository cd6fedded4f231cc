import { CONTRACT_VERSION } from '../../../functions/core/contract';
import { createSipRegisterMessages } from '../../../sip-gateway/src/proxy/sip-register-messages';
import { parseMessage } from '../../../sip-gateway/src/sip/message';

const REGISTER = [
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua1;rport=5062;received=192.0.2.7',
  'Max-Forwards: 70',
  'Route: <sip:edge.example.com;lr>',
  'From: <sip:alice@example.com>;tag=f1',
  'To: <sip:alice@example.com>',
  'Call-ID: c1',
  'CSeq: 2 REGISTER',
  'Expires: 60',
  'Authorization: Digest username="alice", realm="example.com", nonce="n", uri="sip:example.com", response="r"',
  'Contact: "A" <sip:alice@192.0.2.7:5062;transport=tcp;ob>;+sip.instance="<urn:uuid:1>"',
  'Supported: Path, outbound',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const flow = { transport: 'udp' as const, remoteAddress: '192.0.2.7', remotePort: 5062, localAddress: '127.0.0.1', localPort: 5060, gatewayId: 'gw' };
const messages = createSipRegisterMessages(30_000, () => 'tag9');

describe('Function: createSipRegisterMessages', () => {
  it('REG-1: extracts the essentials of a REGISTER for the decision', () => {
    // Prepare
    const request = parseMessage(Buffer.from(REGISTER));

    // Act
    const essentials = messages.toRegisterRequest(request, flow, 1234);

    // Assess
    expect(essentials).toEqual({
      version: CONTRACT_VERSION,
      requestUri: 'sip:example.com',
      from: '<sip:alice@example.com>;tag=f1',
      to: '<sip:alice@example.com>',
      contacts: ['"A" <sip:alice@192.0.2.7:5062;transport=tcp;ob>;+sip.instance="<urn:uuid:1>"'],
      expires: '60',
      callId: 'c1',
      cseq: 2,
      path: [],
      supported: ['path', 'outbound'],
      hasAuthorization: true,
      maxForwards: 70,
      flow,
      receivedAtMs: 1234,
    });
  });

  it('FWD-1: the relay has the new R-URI, our Via on top, Max-Forwards − 1, Route gone, credentials intact', () => {
    // Prepare
    const request = parseMessage(Buffer.from(REGISTER));
    const relay = {
      requestUri: 'sip:registrar.example.net',
      removeHeaders: ['Route', 'Expires', 'Contact'],
      addHeaders: [['Contact', '<sip:alice@203.0.113.10:5060;ctid=42>;expires=3600']] as [string, string][],
      prependPath: [],
      sourceUri: 'sip:203.0.113.10:5060',
    };

    // Act
    const relayed = parseMessage(messages.relayRequest(request, relay, 'z9hG4bKr1', 'UDP').serialize());

    // Assess
    expect(relayed.requestUri).toBe('sip:registrar.example.net');
    expect(relayed.headerValues('Via')).toEqual([
      'SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bKr1;rport',
      'SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua1;rport=5062;received=192.0.2.7',
    ]);
    expect(relayed.maxForwards()).toBe(69);
    expect(relayed.hasHeader('Route')).toBe(false);
    expect(relayed.hasHeader('Expires')).toBe(false);
    expect(relayed.headerValues('Contact')).toEqual(['<sip:alice@203.0.113.10:5060;ctid=42>;expires=3600']);
    expect(relayed.header('Authorization')).toBe(request.header('Authorization'));
    expect([relayed.header('From'), relayed.header('To'), relayed.callId(), relayed.cseq().seq]).toEqual(['<sip:alice@example.com>;tag=f1', '<sip:alice@example.com>', 'c1', 2]);
  });

  it('RPL-7: the UA gets the upstream 2xx without our Via, Contact replaced', () => {
    // Prepare
    const response = parseMessage(
      Buffer.from(
        [
          'SIP/2.0 200 OK',
          'Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bKr1;rport=5060',
          'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua1;rport=5062;received=192.0.2.7',
          'From: <sip:alice@example.com>;tag=f1',
          'To: <sip:alice@example.com>;tag=up',
          'Call-ID: c1',
          'CSeq: 2 REGISTER',
          'Contact: <sip:alice@203.0.113.10:5060;ctid=42>;expires=3600',
          'Expires: 3600',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      ),
    );

    // Act
    const rewritten = messages.rewriteResponse(response, ['Contact', 'Expires'], [['Contact', '<sip:alice@192.0.2.7:5062;transport=tcp;ob>;expires=60']]);
    const outcome = messages.finalOutcome(response, 10, 50);

    // Assess
    expect(rewritten.headerValues('Via')).toEqual(['SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua1;rport=5062;received=192.0.2.7']);
    expect(rewritten.headerValues('Contact')).toEqual(['<sip:alice@192.0.2.7:5062;transport=tcp;ob>;expires=60']);
    expect(rewritten.hasHeader('Expires')).toBe(false);
    expect(outcome).toEqual({ kind: 'final', status: 200, contacts: ['<sip:alice@203.0.113.10:5060;ctid=42>;expires=3600'], expires: '3600', sentAtMs: 10, receivedAtMs: 50 });
  });

  it('REG-10: a local response copies the request essentials and adds the To tag', () => {
    // Prepare
    const request = parseMessage(Buffer.from(REGISTER));

    // Act
    const response = messages.localResponse(request, { status: 200, reason: 'OK', headers: [['Contact', '<sip:a@b>;expires=60']], toTag: 't1' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.toTag()).toBe('t1');
    expect(response.headerValues('Contact')).toEqual(['<sip:a@b>;expires=60']);
  });
});
