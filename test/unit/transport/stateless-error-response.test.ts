import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { buildStatelessErrorResponse, registrarErrorText } from '../../../sip-gateway/src/transport/stateless-error-response';

const context = {
  via: ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-a;rport', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-b'],
  from: '<sip:alice@example.com>;tag=f1',
  to: '<sip:alice@example.com>',
  callId: 'abc@192.0.2.1',
  cseq: '5 REGISTER',
};

describe('Function: buildStatelessErrorResponse', () => {
  it('ERR-3: builds a 400 copying every Via, From, To with a tag, Call-ID and CSeq, with P-Registrar-Error', () => {
    // Prepare
    const error = new SipParseError('Bad CSeq header', { code: 'bad-header', header: 'Expires', responseContext: context });

    // Act
    const text = buildStatelessErrorResponse(error)!.toString('utf8');

    // Assess
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('SIP/2.0 400 Bad Request');
    expect(lines.slice(1, 3)).toEqual(context.via.map((via) => `Via: ${via}`));
    expect(lines[3]).toBe('From: <sip:alice@example.com>;tag=f1');
    expect(lines[4]).toMatch(/^To: <sip:alice@example\.com>;tag=[0-9a-f]{16}$/);
    expect(lines.slice(5)).toEqual(['Call-ID: abc@192.0.2.1', 'CSeq: 5 REGISTER', 'P-Registrar-Error: Bad Expires header', 'Content-Length: 0', '', '']);
  });

  it('gives a retransmission the same To tag, and another request another tag', () => {
    // Prepare
    const error = new SipParseError('x', { code: 'bad-header', header: 'Via', responseContext: context });
    const other = new SipParseError('x', { code: 'bad-header', header: 'Via', responseContext: { ...context, callId: 'other' } });

    // Act
    const first = buildStatelessErrorResponse(error)!.toString();
    const again = buildStatelessErrorResponse(error)!.toString();
    const different = buildStatelessErrorResponse(other)!.toString();

    // Assess
    const tagOf = (text: string): string => /To: [^\r]*;tag=([0-9a-f]+)/.exec(text)![1]!;
    expect(tagOf(again)).toBe(tagOf(first));
    expect(tagOf(different)).not.toBe(tagOf(first));
  });

  it('keeps an existing To tag', () => {
    // Prepare
    const error = new SipParseError('x', { responseContext: { ...context, to: '<sip:alice@example.com>;tag=keep' } });

    // Act
    const text = buildStatelessErrorResponse(error)!.toString();

    // Assess
    expect(text).toContain('\r\nTo: <sip:alice@example.com>;tag=keep\r\n');
  });

  it('ERR-4: answers an over-size message with 513 Message too large', () => {
    // Prepare
    const error = new SipParseError('too big', { code: 'message-too-large', responseContext: context });

    // Act
    const text = buildStatelessErrorResponse(error)!.toString();

    // Assess
    expect(text.startsWith('SIP/2.0 513 Message Too Large\r\n')).toBe(true);
    expect(text).toContain('P-Registrar-Error: Message too large\r\n');
  });

  it('ERR-3: returns nothing when the message cannot be answered', () => {
    // Prepare
    const error = new SipParseError('garbage', { code: 'malformed' });

    // Act
    const reply = buildStatelessErrorResponse(error);

    // Assess
    expect(reply).toBeUndefined();
  });

  it('never lets a line break from the input split a header', () => {
    // Prepare
    const error = new SipParseError('x', { responseContext: { ...context, callId: 'a\r\nX-Injected: 1' } });

    // Act
    const text = buildStatelessErrorResponse(error)!.toString();

    // Assess
    expect(text).not.toContain('\r\nX-Injected');
  });
});

describe('Function: registrarErrorText', () => {
  it.each([
    [new SipParseError('r', { code: 'missing-header', header: 'Call-ID' }), 'Call-ID header not found'],
    [new SipParseError('r', { code: 'bad-header', header: 'From' }), 'Bad From header'],
    [new SipParseError('r', { code: 'message-too-large' }), 'Message too large'],
    [new SipParseError('Bad start line', { code: 'bad-start-line' }), 'Bad start line'],
  ])('ERR-6: %#', (error, expected) => {
    // Prepare
    const input = error;

    // Act
    const text = registrarErrorText(input);

    // Assess
    expect(text).toBe(expected);
  });
});
