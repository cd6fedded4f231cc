import { firstVersion, shardOf } from '../../../functions/store/binding-store';

describe('Function: shardOf', () => {
  it('is FNV-1a of the UTF-8 bytes, so every adapter and the sweep schedules agree', () => {
    // Act
    const shards = [shardOf('a', 2 ** 31), shardOf('', 2 ** 31), shardOf('a', 16)];

    // Assess: FNV-1a 32 of "a" is 0xe40c292c, of "" the offset basis 0x811c9dc5.
    expect(shards).toEqual([0xe40c292c % 2 ** 31, 0x811c9dc5 % 2 ** 31, 0xe40c292c % 16]);
  });

  it('hashes the UTF-8 bytes of a non-ASCII AoR, not its UTF-16 code units', () => {
    // Prepare: FNV-1a 32 over the UTF-8 bytes, computed independently.
    const aor = 'jürgen@exämple.com';
    let expected = 0x811c9dc5;
    for (const byte of new TextEncoder().encode(aor)) expected = Math.imul(expected ^ byte, 0x01000193) >>> 0;

    // Act
    const shard = shardOf(aor, 2 ** 31);

    // Assess
    expect(shard).toBe(expected % 2 ** 31);
  });

  it('spreads AoRs evenly enough that no shard gets a hot share', () => {
    // Prepare
    const counts = new Array<number>(16).fill(0);

    // Act
    for (let i = 0; i < 16_000; i += 1) counts[shardOf(`user${i}@example.com`, 16)] += 1;

    // Assess
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('rejects a shard count that is not a positive integer', () => {
    // Act / Assess
    expect(() => shardOf('a@x', 0)).toThrow(RangeError);
    expect(() => shardOf('a@x', 1.5)).toThrow(RangeError);
  });
});

describe('Function: firstVersion', () => {
  it('GEN-3: starts above every version a record created 2 ms earlier reached with up to 999 updates', () => {
    // Act
    const earlier = firstVersion(1_700_000_000_000, 999) + 999;
    const later = firstVersion(1_700_000_000_002, 0);

    // Assess
    expect(later).toBeGreaterThan(earlier);
    expect(Number.isSafeInteger(firstVersion(Date.UTC(2200, 0, 1), 999))).toBe(true);
  });
});
