import { DEFAULT_SIP_LIMITS } from '../../../sip-gateway/src/sip/limits';
import { createSipTransportCodec, parseAndValidate, topViaBeforeStamping } from '../../../sip-gateway/src/transport/sip-transport-codec';
import type { SipParseError } from '../../../sip-gateway/src/sip/errors';

const register = [
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0',
  'From: <sip:alice@example.com>;tag=f1',
  'To: <sip:alice@example.com>',
  'Call-ID: c1',
  'CSeq: 1 REGISTER',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function thrown(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (error) {
    return error as SipParseError;
  }
  throw new Error('did not throw');
}

describe('Function: parseAndValidate', () => {
  it('ERR-3: a request missing From is answerable with its context', () => {
    // Prepare
    const bytes = Buffer.from(register.replace('From: <sip:alice@example.com>;tag=f1\r\n', ''));

    // Act
    const error = thrown(() => parseAndValidate(bytes, DEFAULT_SIP_LIMITS));

    // Assess
    expect(error.name).toBe('SipParseError');
    expect(error.header).toBe('From');
  });

  it('ERR-3: a bad response is never answerable, so no peer gets a 400 for its response', () => {
    // Prepare
    const bytes = Buffer.from(register.replace('REGISTER sip:example.com SIP/2.0', 'SIP/2.0 200 OK').replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nMax-Forwards: x'));

    // Act
    const error = thrown(() => parseAndValidate(bytes, DEFAULT_SIP_LIMITS));

    // Assess
    expect(error.answerable).toBe(false);
  });

  it('ERR-3: a request whose CSeq method differs from its method is rejected', () => {
    // Prepare
    const bytes = Buffer.from(register.replace('CSeq: 1 REGISTER', 'CSeq: 1 INVITE'));

    // Act
    const error = thrown(() => parseAndValidate(bytes, DEFAULT_SIP_LIMITS));

    // Assess
    expect(error.answerable).toBe(true);
    expect(error.header).toBe('CSeq');
  });
});

describe('Function: createSipTransportCodec', () => {
  it('PTH-1: replaces only the top Via value when stamping, keeping the others in order', () => {
    // Prepare
    const codec = createSipTransportCodec();
    const message = codec.parseDatagram(Buffer.from(register), DEFAULT_SIP_LIMITS);

    // Act
    codec.setTopVia(message, 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport=4000;received=198.51.100.1');

    // Assess
    expect(message.headerValues('Via')).toEqual([
      'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport=4000;received=198.51.100.1',
      'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0',
    ]);
    expect(codec.topVia(message)).toBe('SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport=4000;received=198.51.100.1');
  });

  it('PTH-1: stamps a top Via in its own field and keeps lower Via fields, one holding several values, as written', () => {
    // Prepare
    const codec = createSipTransportCodec();
    const separate = register.replace(
      'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0',
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-2;rport\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-0',
    );
    const message = codec.parseDatagram(Buffer.from(separate), DEFAULT_SIP_LIMITS);

    // Act
    const before = codec.topVia(message);
    codec.setTopVia(message, 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-2;rport=4000;received=198.51.100.1');

    // Assess
    expect(before).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-2;rport');
    expect(message.headerValues('Via')).toEqual([
      'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-2;rport=4000;received=198.51.100.1',
      'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1',
      'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-0',
    ]);
    expect(message.toString()).toContain('\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-0\r\n');
  });

  it('PTH-1: gives the parsed top Via of a field holding several values, and after stamping the stamped one', () => {
    // Prepare
    const codec = createSipTransportCodec();
    const message = parseAndValidate(Buffer.from(register), DEFAULT_SIP_LIMITS);

    // Act
    const before = codec.parsedTopVia(message);
    codec.setTopVia(message, 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport=4000;received=198.51.100.1');
    const after = codec.parsedTopVia(message);

    // Assess
    expect(before).toMatchObject({ transport: 'TCP', host: '192.0.2.1', port: 5060, branch: 'z9hG4bK-1', rport: null });
    expect(after).toMatchObject({ branch: 'z9hG4bK-1', rport: 4000, received: '198.51.100.1' });
  });

  it('PTH-1: remembers the Via a stamp started from while the stamped value is the top Via, for that message only', () => {
    // Prepare
    const codec = createSipTransportCodec();
    const message = parseAndValidate(Buffer.from(register), DEFAULT_SIP_LIMITS);
    const other = parseAndValidate(Buffer.from(register), DEFAULT_SIP_LIMITS);
    const stamped = 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;rport=4000;received=198.51.100.1';

    // Act
    const before = codec.parsedTopVia(message);
    codec.setTopVia(message, stamped);
    const remembered = topViaBeforeStamping(message);
    const forOther = topViaBeforeStamping(other);
    message.setHeader('Via', [`${stamped};x=1`]);
    const afterEdit = topViaBeforeStamping(message);

    // Assess
    expect(remembered).toBe(before);
    expect(remembered).toMatchObject({ transport: 'TCP', host: '192.0.2.1', port: 5060, branch: 'z9hG4bK-1' });
    expect([forOther, afterEdit]).toEqual([undefined, undefined]);
  });

  it('PTH-1: remembers nothing for a Via set without having been parsed through the codec first', () => {
    // Prepare
    const codec = createSipTransportCodec();
    const first = parseAndValidate(Buffer.from(register), DEFAULT_SIP_LIMITS);
    const second = parseAndValidate(Buffer.from(register), DEFAULT_SIP_LIMITS);
    codec.parsedTopVia(first);

    // Act
    codec.setTopVia(second, 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1;received=198.51.100.1');

    // Assess
    expect([topViaBeforeStamping(first), topViaBeforeStamping(second)]).toEqual([undefined, undefined]);
  });

  it('frames a TCP stream into messages and keep-alive pings, and reports a bad message without closing', () => {
    // Prepare
    const framer = createSipTransportCodec().createStreamFramer(DEFAULT_SIP_LIMITS);
    const bad = register.replace('Call-ID: c1\r\n', '');

    // Act
    const events = framer.push(Buffer.from(`${register}\r\n\r\n${bad}\r\n`));

    // Assess
    expect(events.map((event) => (event.kind === 'malformed' ? `malformed:${event.fatal}` : event.kind))).toEqual(['message', 'keepalive-ping', 'malformed:false']);
  });

  it('ERR-4: reports a message over the limit on a stream as fatal', () => {
    // Prepare
    const framer = createSipTransportCodec().createStreamFramer({ ...DEFAULT_SIP_LIMITS, maxMessageBytes: 300 });
    const big = register.replace('Content-Length: 0', 'Content-Length: 5000');

    // Act
    const events = framer.push(Buffer.from(big));

    // Assess
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'malformed', fatal: true });
  });
});
