import { createIdGenerator, seededRandomBytes } from '../../../../functions/core/random';

describe('random ids', () => {
  it('FWD-4: contact ids are decimal integers in [0, 2^63) without leading zeros', () => {
    // Prepare
    const ids = createIdGenerator(seededRandomBytes(1));

    // Act
    const sample = Array.from({ length: 2000 }, () => ids.randomContactId());

    // Assess
    for (const id of sample) {
      expect(id).toMatch(/^(0|[1-9]\d*)$/);
      expect(BigInt(id) < 2n ** 63n).toBe(true);
    }
    // Uniform over 63 bits: about half of them are at least 2^62.
    const high = sample.filter((id) => BigInt(id) >= 2n ** 62n).length;
    expect(high).toBeGreaterThan(850);
    expect(high).toBeLessThan(1150);
  });

  it('FWD-4: the extreme byte patterns map to 0 and 2^63 − 1', () => {
    // Act
    const zero = createIdGenerator(() => new Uint8Array(8)).randomContactId();
    const max = createIdGenerator((n) => new Uint8Array(n).fill(0xff)).randomContactId();

    // Assess
    expect([zero, max]).toEqual(['0', '9223372036854775807']);
  });

  it('tags carry 48 random bits as hex; a seeded source is reproducible', () => {
    // Act
    const a = createIdGenerator(seededRandomBytes(42));
    const b = createIdGenerator(seededRandomBytes(42));

    // Assess
    const tagA = a.randomTag();
    expect(tagA).toMatch(/^[0-9a-f]{12}$/);
    expect(b.randomTag()).toBe(tagA);
    expect(a.randomId()).toMatch(/^[0-9a-f]{16}$/);
    expect(a.randomId()).not.toBe(a.randomId());
  });
});
