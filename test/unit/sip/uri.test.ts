import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { formatUri, parseAbsoluteUri, parseUri, unescapeUriPart, uriParam, urisEqual } from '../../../sip-gateway/src/sip/uri';

describe('Module: uri', () => {
  describe('Function: parseUri', () => {
    it('parses user, password, host, port, params and headers', () => {
      // Prepare
      const text = 'SIP:alice:secret@Example.COM:5070;transport=tcp;lr?subject=hi&priority=urgent';
      // Act
      const uri = parseUri(text);
      // Assess
      expect(uri).toEqual({
        scheme: 'sip', user: 'alice', password: 'secret', host: 'Example.COM', port: 5070,
        params: [{ name: 'transport', value: 'tcp' }, { name: 'lr' }], headers: 'subject=hi&priority=urgent',
      });
    });

    it.each([
      ['sips:[2001:db8::10]:5061', { scheme: 'sips', host: '[2001:db8::10]', port: 5061, params: [] }],
      ['sip:example.com', { scheme: 'sip', host: 'example.com', params: [] }],
      ['sip:user;par=u%40example.net@example.com', { scheme: 'sip', user: 'user;par=u%40example.net', host: 'example.com', params: [] }],
      ['sip:+1-555-123@192.0.2.1;user=phone', { scheme: 'sip', user: '+1-555-123', host: '192.0.2.1', params: [{ name: 'user', value: 'phone' }] }],
    ])('parses %s', (text, expected) => {
      // Act
      const uri = parseUri(text);
      // Assess
      expect(uri).toEqual(expected);
    });

    it('keeps the case of common parameter names and values (shared spellings only when written the same)', () => {
      // Act
      const uri = parseUri('sip:a@h;Transport=UDP;transport=udp;LR;lr;ob;transports=udpx;method=REGISTER');
      // Assess
      expect(uri.params).toEqual([
        { name: 'Transport', value: 'UDP' }, { name: 'transport', value: 'udp' }, { name: 'LR' }, { name: 'lr' }, { name: 'ob' },
        { name: 'transports', value: 'udpx' }, { name: 'method', value: 'REGISTER' },
      ]);
    });

    it('gives params that later parses, failed ones included, leave unchanged', () => {
      // Prepare
      const first = parseUri('sip:a@h;transport=udp;ob');
      // Act
      parseUri('sip:b@h;lr');
      expect(() => parseUri('sip:c@h;x=1;y=2;z=3;=')).toThrow(SipParseError);
      // Assess
      expect(first.params).toEqual([{ name: 'transport', value: 'udp' }, { name: 'ob' }]);
      expect(first.params).toHaveLength(2);
      expect(parseUri('sip:h;a;b=1;c;d=2').params).toEqual([{ name: 'a' }, { name: 'b', value: '1' }, { name: 'c' }, { name: 'd', value: '2' }]);
    });

    it.each([
      'tel:+15551234', 'sip:', 'sip:user@', 'sip:a b@example.com', 'sip:host:99999', 'sip:host:5a',
      'sip:[2001:db8::10', 'sip:ho st', 'sip:host;=x', 'sip:host?novalue', 'sip:us%4ger@host', 'sip:-bad-.com', 'sip:<host>',
    ])('rejects %s with SipParseError', (text) => {
      // Act
      const act = (): unknown => parseUri(text);
      // Assess
      expect(act).toThrow(SipParseError);
    });
  });

  describe('Function: formatUri', () => {
    it('round-trips a parsed URI', () => {
      // Prepare
      const text = 'sip:alice:pw@[2001:db8::1]:5060;maddr=[2001:db8::2];ob?h=v';
      // Act
      const formatted = formatUri(parseUri(text));
      // Assess
      expect(formatted).toBe(text);
    });
  });

  describe('Function: uriParam', () => {
    it('finds params case-insensitively and distinguishes flag from absent', () => {
      // Prepare
      const uri = parseUri('sip:a@b;Transport=TCP;LR');
      // Act / Assess
      expect(uriParam(uri, 'transport')).toBe('TCP');
      expect(uriParam(uri, 'lr')).toBeNull();
      expect(uriParam(uri, 'maddr')).toBeUndefined();
    });
  });

  describe('Function: unescapeUriPart', () => {
    it('decodes %HH sequences as UTF-8', () => {
      // Act / Assess
      expect(unescapeUriPart('sip%3Auser%40example.com')).toBe('sip:user@example.com');
      expect(unescapeUriPart('J%C3%B6rg')).toBe('Jörg');
      expect(unescapeUriPart('plain')).toBe('plain');
    });
  });

  describe('Function: parseAbsoluteUri', () => {
    it('accepts another scheme as opaque and rejects whitespace', () => {
      // Act / Assess
      expect(parseAbsoluteUri('tel:+1-555-1234')).toEqual({ scheme: 'tel', opaque: '+1-555-1234' });
      expect(() => parseAbsoluteUri('tel:+1 555')).toThrow(SipParseError);
      expect(() => parseAbsoluteUri('nocolon')).toThrow(SipParseError);
    });
  });

  describe('Function: urisEqual (RFC 3261 §19.1.4)', () => {
    // The equivalent and non-equivalent pairs listed in RFC 3261 §19.1.4.
    it.each([
      ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
      ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
      ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
      ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ])('%s equals %s', (a, b) => {
      // Act
      const equal = urisEqual(parseUri(a), parseUri(b)) && urisEqual(parseUri(b), parseUri(a));
      // Assess
      expect(equal).toBe(true);
    });

    it.each([
      ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
      ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
      ['sip:alice@example.com', 'sips:alice@example.com'],
      ['sip:alice@example.com;foo=1', 'sip:alice@example.com;foo=2'],
      ['sip:example.com', 'sip:alice@example.com'],
    ])('%s differs from %s', (a, b) => {
      // Act
      const equal = urisEqual(parseUri(a), parseUri(b)) || urisEqual(parseUri(b), parseUri(a));
      // Assess
      expect(equal).toBe(false);
    });
  });
});
