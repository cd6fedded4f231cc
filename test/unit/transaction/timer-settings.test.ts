import { InvalidTimerSettingsError } from '../../../sip-gateway/src/transaction/errors';
import { DEFAULT_TIMER_SETTINGS, deriveTimers } from '../../../sip-gateway/src/transaction/timer-settings';

describe('deriveTimers (RFC 3261 Table 4)', () => {
  it('uses T1 = 500 ms, T2 = 4 s, T4 = 5 s by default, with 64·T1 = 32 s and Timer D = 32 s', () => {
    // Act
    const timers = deriveTimers();
    // Assess
    expect(DEFAULT_TIMER_SETTINGS).toEqual({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
    expect(timers).toEqual({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000, sixtyFourT1Ms: 32000, timerDMs: 32000 });
  });

  it('scales 64·T1 with a configured T1 and keeps Timer D at least 32 s', () => {
    // Act
    const fast = deriveTimers({ t1Ms: 100, t2Ms: 800, t4Ms: 1000 });
    const slow = deriveTimers({ t1Ms: 1000, t2Ms: 4000, t4Ms: 5000 });
    // Assess
    expect(fast.sixtyFourT1Ms).toBe(6400);
    expect(fast.timerDMs).toBe(32000);
    expect(slow.timerDMs).toBe(64000);
  });

  it.each([
    [{ t1Ms: 0, t2Ms: 4000, t4Ms: 5000 }],
    [{ t1Ms: 500, t2Ms: -1, t4Ms: 5000 }],
    [{ t1Ms: 500, t2Ms: 4000, t4Ms: Number.NaN }],
    [{ t1Ms: 5000, t2Ms: 4000, t4Ms: 5000 }],
  ])('rejects %j', (settings) => {
    // Act
    const derive = (): unknown => deriveTimers(settings);
    // Assess
    expect(derive).toThrow(InvalidTimerSettingsError);
  });
});
