/**
 * The garbage-collection time of an AoR record (the store's `ttl`, epoch seconds).
 *
 * DynamoDB TTL is GC only (docs/store.md): it must never remove a record that still matters. After the
 * latest of every time the record holds (local expiries, upstream lapses U, relay deadlines, De-REGISTER
 * attempts, the next due time) nothing in it can act any more: De-REGISTERs are pointless once U passed
 * (DRG-3) and bindings are invalid after expiry or U (GEN-3). A grace period on top covers clock skew
 * and a sweep that is late.
 */
import { nextDueAtMs, type DueConfig } from '../core/timed-work/next-due';
import type { AorRecord } from '../core/model';

/** Grace after the last meaningful time: 7 days. */
export const RECORD_TTL_GRACE_SEC = 7 * 24 * 3600;

/**
 * The ttl of `record` committed at `nowMs`.
 *
 * @example
 * ```ts
 * await store.put(next, version, { dueAtMs: nextDueAtMs(config, next), ttlEpochSec: recordTtlEpochSec(config, next, nowMs) });
 * ```
 */
export function recordTtlEpochSec(config: DueConfig, record: AorRecord, nowMs: number): number {
  let latestMs = Math.max(nowMs, nextDueAtMs(config, record) ?? nowMs);
  const consider = (ms: number | undefined): void => {
    if (ms !== undefined && ms > latestMs) latestMs = ms;
  };
  for (const b of record.bindings) {
    consider(b.expiresAtMs);
    consider(b.upstream?.lapsesAtMs);
  }
  consider(record.incarnation?.upstream?.lapsesAtMs);
  for (const r of record.pendingRelays) consider(r.deadlineAtMs);
  for (const w of record.deregisterWork) {
    consider(w.upstream.lapsesAtMs);
    consider(w.nextAttemptAtMs);
  }
  return Math.ceil(latestMs / 1000) + RECORD_TTL_GRACE_SEC;
}
