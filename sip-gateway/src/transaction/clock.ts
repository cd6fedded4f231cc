/**
 * The time source the transaction layer runs on. Injected so the layer reads no clock of its own and tests are
 * deterministic (a FakeClock in tests, a `setTimeout`-based clock in the gateway).
 */

/** An opaque timer handle returned by {@link Clock.setTimer}. */
export type TimerHandle = unknown;

/** Milliseconds and one-shot timers. */
export interface Clock {
  /** Current time in milliseconds (the gateway's is the wall clock: receipt times are stored, GEN-2). */
  nowMs(): number;
  /**
   * Milliseconds on a clock that never steps (any origin), for intervals only; when absent, `nowMs` is taken to be
   * one (a test's fake clock).
   */
  monotonicMs?(): number;
  /** Calls `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Cancels a timer; a cleared timer never calls its function. Clearing twice is harmless. */
  clearTimer(handle: TimerHandle): void;
}
