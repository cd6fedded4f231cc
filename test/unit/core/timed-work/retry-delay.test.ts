import { classifyFailure, retryDelayMs } from '../../../../functions/core/timed-work/retry-delay';
import { makeConfig } from './record-fixtures';

describe('retry-delay', () => {
  it.each([
    [undefined, 'retry'],
    [408, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [599, 'retry'],
    [301, 'final'],
    [400, 'final'],
    [401, 'final'],
    [423, 'final'],
    [600, 'final'],
  ])('DRG-6: status %s is %s', (status, expected) => {
    // Act
    const result = classifyFailure(status);

    // Assess
    expect(result).toBe(expected);
  });

  it('DRG-6: min(base·2^(n−1), max) for the n-th failure with the defaults (5 s, 300 s)', () => {
    // Prepare
    const config = makeConfig();

    // Act
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(config, n));

    // Assess
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });
});
