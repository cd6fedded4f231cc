import { formatIpAddress, parseIpAddress } from '../../../../functions/core/lookup/ip-address';

describe('ip-address', () => {
  describe('parseIpAddress', () => {
    it.each([
      ['192.0.2.1', [192, 0, 2, 1]],
      ['0.0.0.0', [0, 0, 0, 0]],
      ['::ffff:192.0.2.1', [192, 0, 2, 1]],
      ['[::ffff:c000:201]', [192, 0, 2, 1]],
      ['::1', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
      ['2001:db8::7', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]],
      ['fe80::1%eth0', [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
      ['64:ff9b::192.0.2.1', [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1]],
    ])('LKP-1: parses %s', (text, bytes) => {
      // Act
      const parsed = parseIpAddress(text);

      // Assess
      expect(Array.from(parsed ?? [])).toEqual(bytes);
    });

    it.each(['256.0.0.1', '1.2.3', '01.2.3.4', 'example.com', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '', '::1.2.3'])(
      'LKP-1: rejects %s',
      (text) => {
        // Act
        const parsed = parseIpAddress(text);

        // Assess
        expect(parsed).toBeUndefined();
      },
    );
  });

  describe('formatIpAddress', () => {
    it.each([
      ['2001:0db8:0000:0000:0000:0000:0000:0007', '2001:db8::7'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
      ['192.0.2.1', '192.0.2.1'],
    ])('LKP-9: formats %s as %s (RFC 5952)', (text, canonical) => {
      // Act
      const formatted = formatIpAddress(parseIpAddress(text)!);

      // Assess
      expect(formatted).toBe(canonical);
    });
  });
});
