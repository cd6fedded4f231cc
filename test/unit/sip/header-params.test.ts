import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { findParam, formatHeaderParams, parseHeaderParams, unquotedParam } from '../../../sip-gateway/src/sip/header-params';

describe('Module: header-params', () => {
  describe('Function: parseHeaderParams', () => {
    it('reads token, host and quoted values with LWS around ; and = (RFC 3261 §25.1)', () => {
      // Act
      const params = parseHeaderParams(' ; a = 1 ;b;c="x;y,\\"z\\"" ; d=[2001:db8::1]', 0, 'Test');
      // Assess
      expect(params).toEqual([{ name: 'a', value: '1' }, { name: 'b' }, { name: 'c', value: '"x;y,\\"z\\""' }, { name: 'd', value: '[2001:db8::1]' }]);
      expect(unquotedParam(params, 'C')).toBe('x;y,"z"');
      expect(findParam(params, 'B')).toBeNull();
      expect(findParam(params, 'zz')).toBeUndefined();
      expect(formatHeaderParams(params)).toBe(';a=1;b;c="x;y,\\"z\\"";d=[2001:db8::1]');
    });

    it('gives exact arrays that later parses, failed ones included, leave unchanged', () => {
      // Prepare
      const first = parseHeaderParams(';tag=1;expires=60;q=0.5', 0, 'Test');
      // Act
      parseHeaderParams(';branch=z9hG4bK1;rport', 0, 'Test');
      expect(() => parseHeaderParams(';a=1;b=2;c=3;=', 0, 'Test')).toThrow(SipParseError);
      const none = parseHeaderParams('  ', 0, 'Test');
      // Assess
      expect(first).toEqual([{ name: 'tag', value: '1' }, { name: 'expires', value: '60' }, { name: 'q', value: '0.5' }]);
      expect(first).toHaveLength(3);
      expect(none).toEqual([]);
    });

    it.each([';', ';=1', ';a=', ';a="open', 'junk', ';a b'])('rejects %j', (text) => {
      // Act
      const act = (): unknown => parseHeaderParams(text, 0, 'Test');
      // Assess
      expect(act).toThrow(SipParseError);
    });
  });
});
