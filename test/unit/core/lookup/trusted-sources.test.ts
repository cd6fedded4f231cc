import { compileTrustedSources, isTrustedSource } from '../../../../functions/core/lookup/trusted-sources';

describe('trusted-sources', () => {
  it.each([
    ['203.0.113.0/24', '203.0.113.77', 5080, true],
    ['203.0.113.0/24', '203.0.114.1', 5060, false],
    ['10.0.0.0/9', '10.127.255.255', 1, true],
    ['10.0.0.0/9', '10.128.0.0', 1, false],
    ['0.0.0.0/0', '192.0.2.1', 1, true],
    ['198.51.100.9', '198.51.100.9', 40000, true],
    ['198.51.100.9:5060', '198.51.100.9', 5060, true],
    ['198.51.100.9:5060', '198.51.100.9', 5061, false],
    ['2001:db8::/32', '2001:db8:ffff::1', 5060, true],
    ['2001:db8::/32', '2001:db9::1', 5060, false],
    ['[2001:db8::1]:5060', '2001:db8::1', 5060, true],
    ['::ffff:198.51.100.0/120', '198.51.100.20', 5060, true],
    ['198.51.100.9', '::ffff:198.51.100.9', 5060, true],
    ['registrar.example.net', 'registrar.example.net', 5060, true],
    ['registrar.example.net', '198.51.100.9', 5060, false],
  ])('LKP-1: entry %s trusts %s:%d → %s', (entry, address, port, expected) => {
    // Prepare
    const trusted = compileTrustedSources([entry]);

    // Act
    const result = isTrustedSource(trusted, address, port);

    // Assess
    expect(result).toBe(expected);
  });

  it('LKP-10: an empty list trusts nobody', () => {
    // Act
    const result = isTrustedSource(compileTrustedSources([]), '198.51.100.9', 5060);

    // Assess
    expect(result).toBe(false);
  });
});
