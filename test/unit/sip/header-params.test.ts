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

    it.each([';', ';=1', ';a=', ';a="open', 'junk', ';a b'])('rejects %j', (text) => {
      // Act
      const act = (): unknown => parseHeaderParams(text, 0, 'Test');
      // Assess
      expect(act).toThrow(SipParseError);
    });
  });
});
