/**
 * RFC 3261 §17 timer base values and the timers derived from them (RFC 3261 Table 4, RFC 6026 §8.4/§8.7).
 */
import { InvalidTimerSettingsError } from './errors';

/** The configurable base values. Defaults: T1 = 500 ms, T2 = 4 s, T4 = 5 s (RFC 3261 Table 4). */
export interface TimerSettings {
  /** RTT estimate. */
  readonly t1Ms: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. */
  readonly t2Ms: number;
  /** Maximum duration a message will remain in the network. */
  readonly t4Ms: number;
}

/** RFC 3261 Table 4 defaults. */
export const DEFAULT_TIMER_SETTINGS: TimerSettings = Object.freeze({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });

/** RFC 3261 Table 4: Timer D is "> 32 s for UDP". */
const TIMER_D_UNRELIABLE_MS = 32_000;

/** Every timer value an FSM uses, derived once from {@link TimerSettings}. */
export interface DerivedTimers {
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t4Ms: number;
  /** 64·T1: Timers B, F, H, J (unreliable), L and M. */
  readonly sixtyFourT1Ms: number;
  /** Timer D for unreliable transports: at least 32 s, and never less than 64·T1 when T1 is raised. */
  readonly timerDMs: number;
}

/**
 * Validates `settings` and derives every timer value.
 *
 * @example
 * const timers = deriveTimers({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 }); // timers.sixtyFourT1Ms === 32000
 */
export function deriveTimers(settings: TimerSettings = DEFAULT_TIMER_SETTINGS): DerivedTimers {
  for (const key of ['t1Ms', 't2Ms', 't4Ms'] as const) {
    const value = settings[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new InvalidTimerSettingsError(`${key} must be a positive number of milliseconds, got ${value}`);
    }
  }
  if (settings.t2Ms < settings.t1Ms) {
    throw new InvalidTimerSettingsError(`t2Ms (${settings.t2Ms}) must not be below t1Ms (${settings.t1Ms})`);
  }
  const sixtyFourT1Ms = 64 * settings.t1Ms;
  return Object.freeze({
    t1Ms: settings.t1Ms,
    t2Ms: settings.t2Ms,
    t4Ms: settings.t4Ms,
    sixtyFourT1Ms,
    timerDMs: Math.max(TIMER_D_UNRELIABLE_MS, sixtyFourT1Ms),
  });
}
