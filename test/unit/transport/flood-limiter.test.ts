import { FloodLimiter } from '../../../sip-gateway/src/transport/flood-limiter';

describe('Class: FloodLimiter', () => {
  it('accepts a burst, then refuses until tokens refill at the configured rate', () => {
    // Prepare
    const limiter = new FloodLimiter({ ratePerSec: 10, burst: 3 });

    // Act
    const burst = [0, 0, 0, 0].map(() => limiter.allow('192.0.2.1', 1000));
    const after50Ms = limiter.allow('192.0.2.1', 1050);
    const after100Ms = limiter.allow('192.0.2.1', 1100);

    // Assess
    expect(burst).toEqual([true, true, true, false]);
    expect(after50Ms).toBe(false);
    expect(after100Ms).toBe(true);
  });

  it('keeps sources independent: one flooding peer does not limit another', () => {
    // Prepare
    const limiter = new FloodLimiter({ ratePerSec: 1, burst: 1 });
    limiter.allow('192.0.2.1', 0);

    // Act
    const flooder = limiter.allow('192.0.2.1', 0);
    const other = limiter.allow('192.0.2.2', 0);

    // Assess
    expect(flooder).toBe(false);
    expect(other).toBe(true);
  });

  it('bounds memory by forgetting the least recently seen key', () => {
    // Prepare
    const limiter = new FloodLimiter({ ratePerSec: 1, burst: 1, maxKeys: 2 });
    limiter.allow('a', 0);
    limiter.allow('b', 0);
    limiter.allow('a', 0);

    // Act
    limiter.allow('c', 0);

    // Assess
    expect(limiter.size).toBe(2);
    expect(limiter.allow('b', 0)).toBe(true);
    expect(limiter.allow('a', 0)).toBe(true);
  });

  it('remembers a key seen within the last maxKeys / 2 messages and forgets the least recently seen one', () => {
    // Prepare
    const limiter = new FloodLimiter({ ratePerSec: 1, burst: 1, maxKeys: 4 });
    for (const key of ['a', 'b', 'c', 'd', 'a']) limiter.allow(key, 0);

    // Act
    limiter.allow('e', 0);

    // Assess
    expect(limiter.size).toBe(4);
    expect(limiter.allow('a', 0)).toBe(false);
    expect(limiter.allow('b', 0)).toBe(true);
  });

  it('never refills past the burst size, even after a long silence or a clock step back', () => {
    // Prepare
    const limiter = new FloodLimiter({ ratePerSec: 100, burst: 2 });
    limiter.allow('k', 1000);

    // Act
    const results = [0, 0, 0].map(() => limiter.allow('k', 1_000_000));
    const stepBack = limiter.allow('k', 500);

    // Assess
    expect(results).toEqual([true, true, false]);
    expect(stepBack).toBe(false);
  });
});
