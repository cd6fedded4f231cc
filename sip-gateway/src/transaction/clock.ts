/**
 * The time source the transaction layer runs on. Injected so the layer reads no clock of its own and tests are
 * deterministic (a FakeClock in tests, a `setTimeout`-based clock in the gateway).
 */

/** An opaque timer handle returned by {@link Clock.setTimer}. */
export type TimerHandle = unknown;

/** Monotonic milliseconds and one-shot timers. */
export interface Clock {
  /** Current time in milliseconds. */
  nowMs(): number;
  /** Calls `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Cancels a timer; a cleared timer never calls its function. Clearing twice is harmless. */
  clearTimer(handle: TimerHandle): void;
}
