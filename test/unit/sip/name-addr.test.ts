import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { formatNameAddr, headerParam, parseNameAddr, splitNameAddr } from '../../../sip-gateway/src/sip/name-addr';

describe('Module: name-addr', () => {
  describe('Function: parseNameAddr', () => {
    it('parses a quoted display name, URI params and header params', () => {
      // Act
      const na = parseNameAddr('"Bob \\"B\\" Smith" <sip:bob@biloxi.com;transport=tcp> ;tag = a6c85cf;+sip.instance="<urn:uuid:1>"');
      // Assess
      expect(na.displayName).toBe('Bob "B" Smith');
      expect(na.uri.params).toEqual([{ name: 'transport', value: 'tcp' }]);
      expect(na.params).toEqual([{ name: 'tag', value: 'a6c85cf' }, { name: '+sip.instance', value: '"<urn:uuid:1>"' }]);
    });

    it('parses a token display name', () => {
      // Act
      const na = parseNameAddr('Bob  Smith <sip:bob@biloxi.com>');
      // Assess
      expect(na.displayName).toBe('Bob  Smith');
      expect(na.uri.user).toBe('bob');
    });

    it('gives the parameters of an addr-spec to the header (RFC 3261 §20)', () => {
      // Act
      const na = parseNameAddr('sip:alice@atlanta.com;tag=1928301774;expires=60');
      // Assess
      expect(na.uri.params).toEqual([]);
      expect(headerParam(na, 'TAG')).toBe('1928301774');
      expect(headerParam(na, 'expires')).toBe('60');
      expect(headerParam(na, 'q')).toBeUndefined();
    });

    it('returns null for a parameter without value', () => {
      // Act
      const na = parseNameAddr('<sip:a@b>;ob');
      // Assess
      expect(headerParam(na, 'ob')).toBeNull();
    });

    it.each(['<sip:a@b', '"unterminated <sip:a@b>', '<tel:+123>', 'sip:a@b junk', '<sip:a@b>;=x', '', '"x" sip:a@b'])(
      'rejects %j with SipParseError', (text) => {
        // Act
        const act = (): unknown => parseNameAddr(text, 'From');
        // Assess
        expect(act).toThrow(SipParseError);
      });
  });

  describe('Function: splitNameAddr', () => {
    it('accepts any URI scheme', () => {
      // Act
      const parts = splitNameAddr('<tel:+1555>;tag=9');
      // Assess
      expect(parts).toEqual({ uriText: 'tel:+1555', params: [{ name: 'tag', value: '9' }] });
    });
  });

  describe('Function: formatNameAddr', () => {
    it('round-trips through parseNameAddr', () => {
      // Prepare
      const na = parseNameAddr('"A \\\\ \\"q\\"" <sip:a@b;lr>;tag=x;q=0.5');
      // Act
      const again = parseNameAddr(formatNameAddr(na));
      // Assess
      expect(again).toEqual(na);
    });
  });
});

describe('Module: name-addr, repeated texts', () => {
  it('splits a text again to the same parts, among other texts, and still rejects a bad one each time', () => {
    // Prepare
    const texts = ['<sip:a@example.com>;tag=1', '"B" <sip:b@example.com>', 'sip:c@example.com;expires=60', '<sip:d@x>;q=0.5', '<sip:e@x>;lr'];
    // Act
    const first = texts.map((t) => splitNameAddr(t, 'Contact'));
    const again = texts.map((t) => splitNameAddr(t, 'To'));
    const bad = (): unknown => splitNameAddr('<sip:a@example.com', 'From');
    // Assess
    expect(again).toEqual(first);
    expect(again[2]).toEqual({ uriText: 'sip:c@example.com', params: [{ name: 'expires', value: '60' }] });
    expect(again[1].displayName).toBe('B');
    expect(bad).toThrow('Bad From: missing ">"');
    expect(bad).toThrow('Bad From: missing ">"');
  });
});
