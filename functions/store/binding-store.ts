/**
 * The `BindingStore` port (DESIGN §2, §4): persistence of one document per AoR, committed whole by a
 * conditional write on its version, plus the indexes the functions need.
 *
 * @remarks
 * Design (docs/store.md): ONE item per AoR. The pure core reads the AoR's record, decides, and the
 * handler commits the whole next record with {@link BindingStore.put} conditioned on the version it
 * read. A decision is therefore atomic without multi-item transactions (dynalite has none), costs one
 * read and one write, and two gateway tasks racing on one AoR can never lose a contact: the loser gets
 * {@link VersionConflictError} and re-decides on fresh state (SPEC GEN-5).
 *
 * The record is opaque to the store except its `aor`. Versions are opaque numbers chosen by the store:
 * always pass the `version` that {@link BindingStore.get} returned, never one derived from the record.
 * They are never reused for one AoR, even across delete and re-create (a writer holding a version of a
 * deleted record cannot overwrite a newer record that happens to reach the same count: no ABA).
 *
 * Expiry: `ttlEpochSec` is garbage collection only. DynamoDB TTL deletes items up to days late, so the
 * store returns whatever it holds and the core decides validity on the record's own times (GEN-3);
 * the store never revives a record it deleted and never filters on `ttl`.
 */
import type { StoreStats } from './store-stats';

/** A record as stored, with the version to pass back to {@link BindingStore.put} or {@link BindingStore.delete}. */
export interface StoredAor<R> {
  record: R;
  version: number;
}

/** Index attributes written with a record. */
export interface AorIndex {
  /** Earliest time timed work for this AoR is due (epoch ms); absent when none: not in the due index. */
  dueAtMs?: number;
  /** Garbage-collection time (epoch s); the store may drop the record any time after it. */
  ttlEpochSec: number;
}

/** What a dead letter records: work that failed finally and must not be forgotten silently (DRG-6). */
export interface DeadLetter {
  aor: string;
  /** Kind of work, e.g. `deregister` or `upstream-refresh`. */
  kind: string;
  /** JSON-serializable details (contact, attempts, last status). */
  detail: unknown;
  /** When it failed finally (epoch ms). */
  atMs: number;
}

/**
 * Persistence port for AoR records. Every method throws only {@link StoreError} subclasses
 * (see `./errors`).
 *
 * @typeParam R the record document; only its `aor` is interpreted.
 *
 * @example
 * ```ts
 * const stored = await store.get(aor);
 * const next = decide(stored?.record, nowMs);
 * try {
 *   await store.put(next, stored?.version ?? 0, { dueAtMs: nextDueMs, ttlEpochSec });
 * } catch (err) {
 *   if (err instanceof VersionConflictError) retryDecision(); // GEN-5
 *   else throw err;
 * }
 * ```
 */
export interface BindingStore<R extends { aor: string }> {
  /** The stored record of `aor`, strongly consistent; undefined when none. */
  get(aor: string): Promise<StoredAor<R> | undefined>;
  /**
   * What {@link get} would resolve to, returned at once: only a store holding its records in this process
   * has it (the embedded store; never DynamoDB). A caller may then read, decide and call {@link put} in one
   * synchronous run, in which no other write can come between its read and its write.
   *
   * @throws StoreError as {@link get} rejects
   */
  getNow?(aor: string): StoredAor<R> | undefined;
  /** Records of several AoRs (duplicates ignored); absent ones are missing from the map. */
  getMany(aors: readonly string[]): Promise<Map<string, StoredAor<R>>>;
  /**
   * Commits `record` if the stored version equals `expectedVersion` (0: no record may exist).
   *
   * @returns the new version
   * @throws VersionConflictError when another write came first; nothing is written
   */
  put(record: R, expectedVersion: number, index: AorIndex): Promise<number>;
  /**
   * Deletes the record of `aor` if its version equals `expectedVersion`.
   *
   * @throws VersionConflictError when the version differs or the record is gone
   */
  delete(aor: string, expectedVersion: number): Promise<void>;
  /**
   * AoRs of `shard` whose `dueAtMs <= nowMs`, earliest first, at most `limit`. The index may lag a
   * write briefly (DynamoDB GSIs are eventually consistent): re-read each record before acting.
   */
  findDue(shard: number, nowMs: number, limit: number): Promise<string[]>;
  /**
   * Claims `contactId` for `aor` (FWD-4). Claiming again for the same AoR succeeds and extends the ttl.
   *
   * @throws ContactIdTakenError when another AoR holds it
   */
  claimContactId(contactId: string, aor: string, ttlEpochSec: number): Promise<void>;
  /** The AoR holding `contactId` (LKP-2), or undefined. A hint: the AoR record decides validity. */
  findAorByContactId(contactId: string): Promise<string | undefined>;
  /** Releases `contactId` if `aor` holds it; a no-op otherwise. */
  releaseContactId(contactId: string, aor: string): Promise<void>;
  /** Durably records a final failure of timed work (issue 5; never silently forgotten). */
  putDeadLetter(letter: DeadLetter): Promise<void>;
  /** Calls and capacity consumed since the last {@link resetStats}. */
  stats(): StoreStats;
  resetStats(): void;
}

/**
 * The due-index shard of an AoR: FNV-1a (32 bit) of its UTF-8 bytes modulo `shardCount`.
 * Stable across processes, adapters and releases: the sweep schedules (one per shard) depend on it.
 *
 * @example
 * ```ts
 * shardOf('alice@example.com', 16); // always the same number in 0..15
 * ```
 */
export function shardOf(aor: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  let hash = 0x811c9dc5;
  // ASCII fast path (an AoR almost always is): its UTF-16 code units are its UTF-8 bytes.
  // eslint-disable-next-line no-control-regex
  const utf8 = /^[\x00-\x7f]*$/.test(aor) ? undefined : Buffer.from(aor, 'utf8');
  const length = utf8?.length ?? aor.length;
  for (let i = 0; i < length; i += 1) {
    hash ^= utf8 === undefined ? aor.charCodeAt(i) : utf8[i];
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}

/**
 * First version of a newly created record: derived from the clock (ms × 1000 plus a spread in
 * 0..999), so a record created 2 ms or more after an earlier, deleted record of the same AoR starts
 * above every version that record reached with fewer than 1000 updates per millisecond of its life
 * (no ABA). A delete and re-create within the same millisecond is separated by the spread alone.
 * Fits a safe integer until the year 2255.
 */
export function firstVersion(nowMs: number, spread: number): number {
  return Math.floor(nowMs) * 1000 + (Math.floor(spread) % 1000);
}
