import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { formatVia, parseVia } from '../../../sip-gateway/src/sip/via';

describe('Module: via', () => {
  describe('Function: parseVia', () => {
    it('reads protocol, transport, sent-by, branch, received and rport', () => {
      // Act
      const via = parseVia('SIP/2.0/udp 192.0.2.1:5062;branch=z9hG4bK776;received=198.51.100.7;rport=40000');
      // Assess
      expect(via).toMatchObject({
        protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5062,
        branch: 'z9hG4bK776', received: '198.51.100.7', rport: 40000,
      });
    });

    it('reports rport without value as null (RFC 3581)', () => {
      // Act
      const via = parseVia('SIP/2.0/TCP client.example.com;rport;branch=z9hG4bKx');
      // Assess
      expect(via.rport).toBeNull();
      expect(via.port).toBeUndefined();
    });

    it('allows LWS around "/" and ":" and an IPv6 sent-by', () => {
      // Act
      const via = parseVia('SIP  /   2.0  /   UDP    [2001:db8::9] : 5060 ; branch = z9hG4bKa');
      // Assess
      expect(via).toMatchObject({ protocol: 'SIP/2.0', transport: 'UDP', host: '[2001:db8::9]', port: 5060, branch: 'z9hG4bKa' });
    });

    it.each(['SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDP host;branch', 'SIP/2.0/UDP host;rport=x', 'SIP/2.0/UDP host junk'])(
      'rejects %j with SipParseError', (text) => {
        // Act
        const act = (): unknown => parseVia(text);
        // Assess
        expect(act).toThrow(SipParseError);
      });
  });

  describe('Function: formatVia', () => {
    it('formats from params and round-trips', () => {
      // Prepare
      const via = parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport');
      // Act
      const text = formatVia(via);
      // Assess
      expect(text).toBe('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport');
      expect(parseVia(text)).toEqual(via);
    });
  });
});

describe('Function: parseVia (sent-protocol forms)', () => {
  it.each([
    ['SIP/2.0/ UDP h', 'SIP/2.0', 'UDP'],
    ['sip/2.0/udp h', 'sip/2.0', 'UDP'],
    ['SIP/2.0/Tls h', 'SIP/2.0', 'TLS'],
    ['SIP/2.0/WSS h', 'SIP/2.0', 'WSS'],
  ])('reads %j', (text, protocol, transport) => {
    // Act
    const via = parseVia(text);
    // Assess
    expect([via.protocol, via.transport, via.host]).toEqual([protocol, transport, 'h']);
  });
});
