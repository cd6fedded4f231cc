import { endOfQuoted, equalsLower, isToken, parseDeltaSeconds, parseDigits, quote, trimLws, unquote } from '../../../sip-gateway/src/sip/chars';

describe('Module: chars', () => {
  it('REG-3: parseDeltaSeconds clamps at 2^32-1 and rejects non-digits', () => {
    // Act / Assess
    expect(parseDeltaSeconds('3600')).toBe(3600);
    expect(parseDeltaSeconds('0068')).toBe(68);
    expect(parseDeltaSeconds('99999999999999999999999')).toBe(4294967295);
    expect(parseDeltaSeconds('12', 5)).toBe(5);
    expect(parseDeltaSeconds('')).toBe(-1);
    expect(parseDeltaSeconds('1a')).toBe(-1);
    expect(parseDeltaSeconds('-1')).toBe(-1);
  });

  it('parseDigits refuses more digits than allowed', () => {
    // Act / Assess
    expect(parseDigits('65535', 5)).toBe(65535);
    expect(parseDigits('123456', 5)).toBe(-1);
  });

  it('quoted strings: end found past quoted-pairs, quote and unquote are inverse', () => {
    // Prepare
    const text = 'x "a\\"b\\\\" y';
    // Act / Assess
    expect(endOfQuoted(text, 2)).toBe(9);
    expect(endOfQuoted('"open', 0)).toBe(-1);
    expect(unquote(quote('he said "hi" \\o/'))).toBe('he said "hi" \\o/');
    expect(unquote('plain')).toBe('plain');
  });

  it('tokens treat % as a plain character; equalsLower ignores ASCII case only', () => {
    // Act / Assess
    expect(isToken('RE%47IST%45R')).toBe(true);
    expect(isToken('a b')).toBe(false);
    expect(equalsLower('BrAnCh', 'branch')).toBe(true);
    expect(equalsLower('branch1', 'branch')).toBe(false);
    expect(trimLws(' \t a b \r\n')).toBe('a b');
  });
});
