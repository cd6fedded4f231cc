import type { OutgoingRegister } from '../../../functions/core/timed-work';
import { buildRegisterMessage, outcomeOfResponse } from '../../../functions/upstream/register-message';
import { parseNextHop } from '../../../functions/upstream/next-hop';
import { createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';

const REFRESH: OutgoingRegister = {
  workId: 'w1',
  attemptId: 'a1',
  purpose: 'refresh',
  requestUri: 'sip:registrar.example.net',
  sourceUri: 'sip:203.0.113.10:5060',
  timeoutMs: 10_000,
  headers: [
    ['From', '<sip:alice@example.com>;tag=f9'],
    ['To', '<sip:alice@example.com>'],
    ['Call-ID', 'own-call@203.0.113.10'],
    ['CSeq', '3 REGISTER'],
    ['Contact', '<sip:alice@203.0.113.10:5060;ctid=111>;expires=3600'],
    ['Max-Forwards', '70'],
  ],
  contactUri: 'sip:alice@203.0.113.10:5060;ctid=111',
  expiresSec: 3600,
};

function answer(status: number, headers: Array<[string, string]>): SipMessage {
  const request = buildRegisterMessage(REFRESH, { transport: 'UDP', host: '203.0.113.10', port: 5060, branch: 'z9hG4bKabc' });
  return parseMessage(createResponse(parseMessage(request.serialize()), status, 'X', { toTag: 't', headers }).serialize());
}

describe('register message', () => {
  it('DRG-9: the request carries our Via first, then the planned headers in order, Content-Length 0 and no body', () => {
    // Prepare
    const via = { transport: 'TCP', host: '203.0.113.10', port: 5060, branch: 'z9hG4bKxyz' };

    // Act
    const text = buildRegisterMessage(REFRESH, via).serialize().toString('utf8');

    // Assess
    expect(text.split('\r\n')).toEqual([
      'REGISTER sip:registrar.example.net SIP/2.0',
      'Via: SIP/2.0/TCP 203.0.113.10:5060;branch=z9hG4bKxyz;rport',
      'From: <sip:alice@example.com>;tag=f9',
      'To: <sip:alice@example.com>',
      'Call-ID: own-call@203.0.113.10',
      'CSeq: 3 REGISTER',
      'Contact: <sip:alice@203.0.113.10:5060;ctid=111>;expires=3600',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ]);
  });

  it('RPL-4, RPL-3: g is our contact\'s expires, found among foreign contacts by URI equality; the contact is kept byte for byte as returned (RPL-5)', () => {
    // Prepare
    const response = answer(200, [
      ['Contact', '<sip:bob@198.51.100.1>;expires=900'],
      ['Contact', '<SIP:alice@203.0.113.10:5060;CTID=111>;expires=1800'],
      ['Expires', '600'],
    ]);

    // Act
    const outcome = outcomeOfResponse(response, REFRESH);

    // Assess
    expect(outcome).toEqual({ kind: '2xx', grantedExpiresSec: 1800, contactAsReturned: 'SIP:alice@203.0.113.10:5060;CTID=111' });
  });

  it('RPL-4: without our contact, g is the Expires header', () => {
    // Prepare
    const response = answer(200, [['Contact', '<sip:bob@198.51.100.1>;expires=900'], ['Expires', '600']]);

    // Act
    const outcome = outcomeOfResponse(response, REFRESH);

    // Assess
    expect(outcome).toEqual({ kind: '2xx', grantedExpiresSec: 600 });
  });

  it('DRG-6: a 407 carries its Proxy-Authenticate challenge; Retry-After comments are ignored', () => {
    // Prepare
    const response = answer(407, [['Proxy-Authenticate', 'Digest realm="r", nonce="n"'], ['Retry-After', '18 (maintenance)']]);

    // Act
    const outcome = outcomeOfResponse(response, REFRESH);

    // Assess
    expect(outcome).toEqual({ kind: 'failure', status: 407, retryAfterSec: 18, challenge: 'Digest realm="r", nonce="n"' });
  });

  it.each([
    ['127.0.0.1:5070;transport=tcp', { host: '127.0.0.1', port: 5070, transport: 'tcp' }],
    ['sip:registrar.example.net', { host: 'registrar.example.net', port: 5060, transport: 'udp' }],
    ['sips:registrar.example.net', { host: 'registrar.example.net', port: 5061, transport: 'tls' }],
    ['[2001:db8::1]:5080', { host: '2001:db8::1', port: 5080, transport: 'udp' }],
  ])('DRG-5: the next hop of %s', (text, hop) => {
    // Prepare
    const input = text;

    // Act
    const parsed = parseNextHop(input);

    // Assess
    expect(parsed).toEqual(hop);
  });
});
