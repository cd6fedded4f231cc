import { createSipTransactionCodec } from '../../../sip-gateway/src/proxy/sip-transaction-codec';
import { createResponse, parseMessage } from '../../../sip-gateway/src/sip/message';
import { createSipTransportCodec } from '../../../sip-gateway/src/transport/sip-transport-codec';
import { stampParsedTopVia } from '../../../sip-gateway/src/transport/via-stamping';

const REGISTER = Buffer.from(
  [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/udp Device.Example.COM:5062;branch=z9hG4bK-abc;rport',
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=from-1',
    'To: <sip:alice@example.com>',
    'Call-ID: call-1@device',
    'CSeq: 7 register',
    'Contact: <sip:alice@192.0.2.1:5062>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
  'latin1',
);

describe('createSipTransactionCodec', () => {
  it('RFC 3261 §17.2.3: a request view carries the matching fields, sent-by host lower-cased, transport and method upper-cased', () => {
    // Prepare
    const codec = createSipTransactionCodec();

    // Act
    const view = codec.view(parseMessage(REGISTER));

    // Assess
    expect({ ...view }).toEqual({
      isRequest: true,
      method: 'REGISTER',
      status: 0,
      requestUri: 'sip:example.com',
      via: { branch: 'z9hG4bK-abc', sentBy: 'device.example.com:5062', transport: 'UDP' },
      callId: 'call-1@device',
      cseqSeq: 7,
      cseqMethod: 'REGISTER',
      fromTag: 'from-1',
      toTag: undefined,
    });
  });

  it.each([
    ['already in matching case', 'SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-1', 'REGISTER', '192.0.2.1:5062', 'UDP'],
    ['an IPv6 sent-by with capitals and no port', 'SIP/2.0/Tcp [2001:DB8::A];branch=z9hG4bK-1', 'Register', '[2001:db8::a]', 'TCP'],
  ])('RFC 3261 §17.2.3: casing of a request view, %s', (_name, via, method, sentBy, transport) => {
    // Prepare
    const codec = createSipTransactionCodec();
    const text = REGISTER.toString('latin1').replace(/^Via: .*$/m, `Via: ${via}`).replace('REGISTER sip:', `${method} sip:`).replace('7 register', `7 ${method}`);

    // Act
    const view = codec.view(parseMessage(Buffer.from(text, 'latin1')));

    // Assess
    expect([view.method, view.cseqMethod, view.via.sentBy, view.via.transport]).toEqual([method.toUpperCase(), method.toUpperCase(), sentBy, transport]);
  });

  it('RFC 3261 §17.2.3: the view of a request the transport just stamped is the view of the stamped message parsed afresh', () => {
    // Prepare
    const codec = createSipTransactionCodec();
    const transport = createSipTransportCodec();
    const request = parseMessage(REGISTER);
    const flow = { transport: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '198.51.100.7', remotePort: 40000 } as const;
    transport.setTopVia(request, stampParsedTopVia(transport.parsedTopVia(request)!, flow));

    // Act
    const view = codec.view(request);

    // Assess
    expect({ ...view }).toEqual({ ...codec.view(parseMessage(request.serialize())) });
  });

  it('RFC 3261 §17.1.3: a response view gives the same matching fields as the request it answers, and its status and To tag', () => {
    // Prepare
    const codec = createSipTransactionCodec();
    const request = parseMessage(REGISTER);
    const response = createResponse(request, 200, 'OK', { toTag: 'to-9' });

    // Act
    const view = codec.view(response);

    // Assess
    expect(view.isRequest).toBe(false);
    expect(view.status).toBe(200);
    expect(view.method).toBe('REGISTER');
    expect(view.via).toEqual({ branch: 'z9hG4bK-abc', sentBy: 'device.example.com:5062', transport: 'UDP' });
    expect([view.callId, view.cseqSeq, view.cseqMethod, view.fromTag, view.toTag]).toEqual(['call-1@device', 7, 'REGISTER', 'from-1', 'to-9']);
  });

  it('status reads a response\'s status code as its view does', () => {
    // Prepare
    const codec = createSipTransactionCodec();
    const request = parseMessage(REGISTER);
    const responses = [100, 200, 423, 503].map((status) => createResponse(request, status, 'Reason', { toTag: 'to-9' }));

    // Act
    const statuses = responses.map((response) => codec.status(response));

    // Assess
    expect(statuses).toEqual([100, 200, 423, 503]);
    expect(statuses).toEqual(responses.map((response) => codec.view(response).status));
  });

  it('RFC 3261 §8.2.6.2: responses the layer builds carry a fresh random To tag, 100 Trying none', () => {
    // Prepare
    const codec = createSipTransactionCodec();
    const request = parseMessage(REGISTER);

    // Act
    const tags = [codec.createResponse(request, 408, 'Request Timeout'), codec.createResponse(request, 408, 'Request Timeout')].map((r) => r.toTag());
    const trying = codec.createResponse(request, 100, 'Trying');

    // Assess
    expect(tags[0]).toMatch(/^[0-9a-f]{12}$/);
    expect(tags[1]).toMatch(/^[0-9a-f]{12}$/);
    expect(tags[0]).not.toBe(tags[1]);
    expect(trying.toTag()).toBeUndefined();
  });
});
