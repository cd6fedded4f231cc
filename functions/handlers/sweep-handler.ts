/**
 * The `sweep` function (DESIGN §6): EventBridge Scheduler invokes it every minute per shard
 * (`{ shard, shardCount }`); it sweeps that shard every `loopIntervalMs` for about a minute, so a
 * De-REGISTER leaves within `deregisterBound` of its due time (DRG-4) although the schedule is
 * `rate(1 minute)`. Overlapping invocations of one shard are safe: each send is claimed (GEN-5).
 */
import type { MidRegistrarConfig } from '../core/config';
import type { SweepPassReport, SweepService } from './sweep-service';

/** The event of one schedule (infra/lib/constructs/timed-work.ts `SweepEvent`). */
export interface SweepEvent {
  shard: number;
  shardCount?: number;
}

/** The part of the Lambda context the loop reads. */
export interface SweepContext {
  getRemainingTimeInMillis(): number;
}

/** What one invocation did, summed over its passes. */
export interface SweepRunReport extends SweepPassReport {
  shard: number;
  passes: number;
}

/** A sweep event the function cannot act on; the invocation fails (and the scheduler retries). */
export class SweepEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepEventError';
  }
}

/** What the handler runs on. */
export interface SweepHandlerDeps {
  config: MidRegistrarConfig;
  service: SweepService;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Published after each invocation (metrics flush). */
  onInvocationEnd?: (report: SweepRunReport) => void;
  /** A pass failed (store unreachable…); the loop goes on with the next pass. */
  onPassError?: (error: unknown) => void;
  /** Pause between the starts of two passes. @default 5000 */
  loopIntervalMs?: number;
  /** No pass starts later than this after the invocation started. @default 55000 */
  loopBudgetMs?: number;
}

/** Validates the scheduler's event. */
export function readSweepEvent(event: unknown, shardCount: number): SweepEvent {
  const shard = (event as { shard?: unknown } | null)?.shard;
  const eventShardCount = (event as { shardCount?: unknown } | null)?.shardCount;
  if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
    throw new SweepEventError(`sweep event needs an integer shard in 0..${shardCount - 1}, got ${JSON.stringify(shard)}`);
  }
  if (eventShardCount !== undefined && eventShardCount !== shardCount) {
    // Schedules and function disagree on the sharding: some AoRs would never be swept.
    throw new SweepEventError(`sweep event shardCount ${JSON.stringify(eventShardCount)} differs from the configured ${shardCount}`);
  }
  return { shard, shardCount };
}

function add(total: SweepRunReport, pass: SweepPassReport): void {
  total.aors += pass.aors;
  total.deregistersSent += pass.deregistersSent;
  total.refreshesSent += pass.refreshesSent;
  total.failures += pass.failures;
  total.conflicts += pass.conflicts;
  total.deleted += pass.deleted;
  total.errors += pass.errors;
  total.passes += 1;
}

/**
 * Builds the Lambda handler.
 *
 * @example
 * ```ts
 * export const handler = createSweepHandler({ config, service, nowMs: Date.now, sleep });
 * ```
 */
export function createSweepHandler(deps: SweepHandlerDeps): (event: unknown, context?: SweepContext) => Promise<SweepRunReport> {
  const intervalMs = deps.loopIntervalMs ?? 5_000;
  const budgetMs = deps.loopBudgetMs ?? 55_000;
  return async (event, context) => {
    const { shard } = readSweepEvent(event, deps.config.shardCount);
    const startMs = deps.nowMs();
    // A pass may wait `upstreamTimeout` for its last answers; none starts when it could not finish in time.
    const remainingMs = context === undefined ? Infinity : context.getRemainingTimeInMillis() - deps.config.upstreamTimeoutMs - 1_000;
    const lastStartMs = startMs + Math.min(budgetMs, remainingMs);
    const total: SweepRunReport = { shard, passes: 0, aors: 0, deregistersSent: 0, refreshesSent: 0, failures: 0, conflicts: 0, deleted: 0, errors: 0 };
    let failedPasses = 0;
    let lastError: unknown;
    try {
      for (let passStartMs = startMs; ; ) {
        try {
          add(total, await deps.service.sweepShard(shard, passStartMs));
        } catch (error) {
          // A failed pass claimed nothing it did not commit; the next pass (or invocation) takes the work up.
          failedPasses += 1;
          lastError = error;
          deps.onPassError?.(error);
        }
        const nextStartMs = passStartMs + intervalMs;
        if (nextStartMs > lastStartMs) break;
        const waitMs = nextStartMs - deps.nowMs();
        if (waitMs > 0) await deps.sleep(waitMs);
        passStartMs = deps.nowMs();
      }
    } finally {
      deps.onInvocationEnd?.(total);
    }
    // Every pass failed: fail the invocation, so the function's error alarm sees a sweep that does nothing.
    if (total.passes === 0 && failedPasses > 0) throw lastError;
    return total;
  };
}
