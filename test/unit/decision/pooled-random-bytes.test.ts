import { createPooledRandomBytes } from '../../../sip-gateway/src/decision/pooled-random-bytes';

describe('Function: createPooledRandomBytes', () => {
  it('gives the requested number of bytes, different each call, across refills', () => {
    // Prepare
    const randomBytes = createPooledRandomBytes(64);

    // Act
    const tags = Array.from({ length: 100 }, () => randomBytes(6).toString('hex'));

    // Assess
    expect(tags.every((tag) => /^[0-9a-f]{12}$/.test(tag))).toBe(true);
    expect(new Set(tags).size).toBe(100);
  });

  it('never overwrites bytes handed out before a refill', () => {
    // Prepare
    const randomBytes = createPooledRandomBytes(16);
    const first = randomBytes(8);
    const copy = Buffer.from(first);

    // Act: exhaust the pool twice
    for (let i = 0; i < 4; i += 1) randomBytes(8);

    // Assess
    expect(first.equals(copy)).toBe(true);
  });

  it('serves requests larger than the pool directly', () => {
    // Act
    const bytes = createPooledRandomBytes(16)(32);

    // Assess
    expect(bytes).toHaveLength(32);
  });
});
