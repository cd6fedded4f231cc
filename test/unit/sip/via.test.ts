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

  describe('Function: parseVia, repeated texts', () => {
    it('gives the same result for a text parsed again, also after another text and after a failure', () => {
      // Prepare
      const a = 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport';
      const b = 'SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKb;received=192.0.2.9';
      // Act
      const first = parseVia(a);
      const again = parseVia(`${a}`);
      const other = parseVia(b);
      const bad = (): unknown => parseVia('SIP/2.0/UDP host;branch');
      // Assess
      expect(again).toEqual(first);
      expect(other).toMatchObject({ transport: 'TCP', host: '192.0.2.2', branch: 'z9hG4bKb', received: '192.0.2.9' });
      expect(bad).toThrow(SipParseError);
      expect(bad).toThrow(SipParseError);
      expect(parseVia(a)).toEqual({ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5060, params: [{ name: 'branch', value: 'z9hG4bKa' }, { name: 'rport' }], branch: 'z9hG4bKa', received: undefined, rport: null });
    });

    it.each(['SIP/2.0/UDP host:', 'SIP/2.0/UDP host:123456', 'SIP/2.0/UDP host:65536'])('rejects the sent-by port of %j', (text) => {
      // Act
      const act = (): unknown => parseVia(text);
      // Assess
      expect(act).toThrow('Bad Via header: sent-by port');
    });

    it('reads common parameter names in any case', () => {
      // Act
      const via = parseVia('SIP/2.0/UDP h;BRANCH=z9hG4bKc;Received=192.0.2.3;RPort=5070');
      // Assess
      expect(via).toMatchObject({ branch: 'z9hG4bKc', received: '192.0.2.3', rport: 5070 });
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
