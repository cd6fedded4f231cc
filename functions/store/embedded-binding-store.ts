/**
 * Embedded adapter of the {@link BindingStore} port, for `npm start` (one process): in-memory maps
 * plus an append-only journal in `dataDir`, so bindings survive a restart (GEN-1).
 *
 * @remarks
 * - A call decides and updates memory synchronously (so writes on one AoR are serialized exactly as
 *   DynamoDB's conditional writes are) and resolves once its journal line is written; lines of one
 *   event-loop turn share one write (group commit). `kill -9` loses nothing acknowledged (the data is
 *   in the OS page cache); power loss is out of scope unless `fsync: true`.
 * - Files: `snapshot.jsonl` (header `{"t":"s","g":G}`, then one line per live record and contact id),
 *   sealed journal segments `journal.<g>.jsonl`, and the live journal `journal.jsonl`. Start-up replays
 *   the snapshot, the sealed segments with g > G in order, then the live journal, skipping a last
 *   line cut by a crash in each, then compacts synchronously (no traffic yet).
 * - Compaction, when the live journal holds more than max(`compactMinBytes`, 2 × the last snapshot's)
 *   bytes (bytes, not lines: an absorbed refresh's patch line is ~5× smaller than a record's line):
 *   the live journal is sealed as segment g and a new one started (a few system calls), then the
 *   snapshot with header g is written from memory in pieces with async fs, so puts go on and are
 *   journaled meanwhile; it replaces the old snapshot by rename, and segments ≤ g are deleted. A
 *   crash at any point replays correctly: before the rename, the old snapshot and every segment;
 *   after it, the new snapshot (which holds the state at or after sealing) and the live journal
 *   (every change after sealing, replayed over it). Compaction drops records and contact ids whose
 *   ttl passed (like DynamoDB TTL, garbage collection only: reads never filter on ttl, and a deleted
 *   record never comes back, because deletes are journaled).
 * - Dead letters go to `dead-letters.jsonl`, append-only, never compacted.
 * - A `LOCK` file holding the pid keeps two processes from sharing `dataDir`.
 * - Records are held as objects and handed out without copying: callers must treat them as
 *   immutable (the core builds new records). `freezeRecords` deep-freezes them so a mutation throws;
 *   it is on by default when NODE_ENV is `test` or `development`.
 * - A put that keeps the record's structure (an absorbed refresh) is journaled as a patch of the
 *   previous version (record-patch.ts, ~200 bytes, written straight into the journal's buffer); other
 *   puts as the whole record.
 * - Cost: a put is a diff or one JSON.stringify of the record (its journal line) plus a share of one
 *   write(2); a get is a map lookup; a compaction serializes every live record once more (docs/store.md has the
 *   measured alternatives: keeping each record's JSON for the snapshot cost ~6 KB of RSS per record).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { firstVersion, shardOf, type AorIndex, type BindingStore, type DeadLetter, type StoredAor } from './binding-store';
import { DueIndex } from './due-index';
import { ContactIdTakenError, StoreFailureError, StoreUnavailableError, VersionConflictError } from './errors';
import { JournalWriter, readJournal, rewriteJournal, writeFileAtomically, type JournalIo } from './journal-file';
import { applyPatch, PatchMismatchError, writePatch, type PatchOp } from './record-patch';
import { StoreStatsCounter, type StoreStats } from './store-stats';

/** Options of {@link EmbeddedBindingStore.open}. */
export interface EmbeddedBindingStoreOptions {
  /** Directory for the journal, created if missing. */
  dataDir: string;
  /** Number of due-index shards (same meaning as in the DynamoDB adapter). */
  shardCount: number;
  /** fsync after each group write: survives power loss, at the cost of a disk flush per group. @default false */
  fsync?: boolean;
  /**
   * Lower bound of live journal bytes before a compaction (above it, compaction waits for twice the
   * last snapshot's bytes). @default 32 MiB
   */
  compactMinBytes?: number;
  /** Clock (epoch ms), for first versions and ttl collection. @default Date.now */
  clock?: () => number;
  /** Journal write and fsync calls; tests inject failures here. @default node:fs */
  journalIo?: JournalIo;
  /**
   * Deep-freeze every record put or read back, so a caller mutating a shared record throws instead of
   * silently changing the store's state. Costs a walk of each record per put.
   * @default true when NODE_ENV is `test` or `development`
   */
  freezeRecords?: boolean;
}

/** File names inside `dataDir`. */
export const EMBEDDED_FILES = { journal: 'journal.jsonl', snapshot: 'snapshot.jsonl', deadLetters: 'dead-letters.jsonl', lock: 'LOCK' } as const;

/** Name of sealed journal segment `generation`. */
export function sealedJournalName(generation: number): string {
  return `journal.${generation}.jsonl`;
}

const SEALED_NAME = /^journal\.(\d+)\.jsonl$/;
const SNAPSHOT_TMP_NAME = /^snapshot\.jsonl\.\d+\.\d+\.tmp$/;
/**
 * Default floor of the compaction threshold. Below the ~50 MB the former 50,000-line floor allowed
 * with whole-record lines; in patch lines (~210 bytes) it is ~160,000 absorbed refreshes between
 * compactions of a small store, replayed at start-up in ~1.4 s (docs/store.md).
 */
const DEFAULT_COMPACT_MIN_BYTES = 32 * 1024 * 1024;
/** Characters of snapshot text written per asynchronous write (~70 records, well under 1 ms of serialization). */
const SNAPSHOT_PIECE_CHARS = 64 * 1024;

interface RecordEntry {
  /** The record, shared with callers as an immutable value (frozen when `freezeRecords`). */
  record: unknown;
  version: number;
  dueAtMs: number | undefined;
  ttlEpochSec: number;
  /** `shardOf(aor)`, computed once per record: a refresh that moves the due time skips the hash. */
  shard: number;
}

interface ContactIdEntry {
  aor: string;
  ttlEpochSec: number;
}

/**
 * Journal lines: put (whole record), patch (a put as changes to version v − 1), delete, claim, release
 * (and the snapshot header, read at start-up only).
 */
type JournalEntry =
  | { t: 'p'; v: number; d: number | null; x: number; r: { aor: string } }
  | { t: 'q'; a: string; v: number; d: number | null; x: number; o: PatchOp[] }
  | { t: 'd'; a: string }
  | { t: 'c'; i: string; a: string; x: number }
  | { t: 'u'; i: string };

/** Data directories held by this process. */
const lockedDirs = new Set<string>();

function putLine(json: string, version: number, dueAtMs: number | undefined, ttlEpochSec: number): string {
  return `{"t":"p","v":${version},"d":${dueAtMs ?? 'null'},"x":${ttlEpochSec},"r":${json}}\n`;
}

/**
 * Most ops a patch line may hold; beyond that the whole record is journaled. An absorbed refresh of
 * one binding takes 3–6 (expiry, CSeq, update time, flow or Call-ID when they changed).
 */
const MAX_PATCH_OPS = 24;

function contactLine(contactId: string, entry: ContactIdEntry): string {
  return `${JSON.stringify({ t: 'c', i: contactId, a: entry.aor, x: entry.ttlEpochSec })}\n`;
}

/** Freezes `value` and everything reachable from it; stops at objects already frozen (shared parts). */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

function freezeByDefault(): boolean {
  const mode = process.env.NODE_ENV;
  return mode === 'test' || mode === 'development';
}

/** What start-up found in `dataDir`. */
interface DataDirContents {
  entries: unknown[];
  skippedTail: boolean;
  /** Highest generation of a snapshot or sealed segment (0: none). */
  generation: number;
}

/** Reads the snapshot, the sealed segments it does not cover, and the live journal, in replay order. */
function readDataDir(dir: string): DataDirContents {
  const snapshot = readJournal(nodePath.join(dir, EMBEDDED_FILES.snapshot));
  const header = snapshot.entries.shift() as { t?: string; g?: number } | undefined;
  if (header !== undefined && (header.t !== 's' || !Number.isInteger(header.g))) throw new StoreFailureError(`${dir}: snapshot has no header`);
  const covered = header?.g ?? 0;
  const sealed = fs
    .readdirSync(dir)
    .map((name) => SEALED_NAME.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const entries = snapshot.entries;
  let skippedTail = snapshot.skippedTail;
  for (const generation of sealed.filter((g) => g > covered)) {
    const segment = readJournal(nodePath.join(dir, sealedJournalName(generation)));
    for (const entry of segment.entries) entries.push(entry);
    skippedTail ||= segment.skippedTail;
  }
  const live = readJournal(nodePath.join(dir, EMBEDDED_FILES.journal));
  for (const entry of live.entries) entries.push(entry);
  return { entries, skippedTail: skippedTail || live.skippedTail, generation: Math.max(covered, ...sealed) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * BindingStore kept in memory and journaled to `dataDir`.
 *
 * @example
 * ```ts
 * const store = EmbeddedBindingStore.open<AorRecord>({ dataDir: './data', shardCount: 16 });
 * process.on('SIGTERM', () => store.close());
 * ```
 */
export class EmbeddedBindingStore<R extends { aor: string }> implements BindingStore<R> {
  private readonly records = new Map<string, RecordEntry>();
  private readonly contactIds = new Map<string, ContactIdEntry>();
  private readonly due: DueIndex;
  private readonly counters = new StoreStatsCounter();
  private readonly journal: JournalWriter;
  private readonly deadLetters: JournalWriter;
  private readonly clock: () => number;
  private readonly compactMinBytes: number;
  /** Bytes of the last snapshot written: the journal may grow to twice that before a compaction. */
  private snapshotBytes = 0;
  private readonly freezeRecords: boolean;
  private lastFirstVersion = 0;
  private closed = false;
  /** Generation of the newest sealed segment or snapshot. */
  private generation: number;
  /** The running compaction, if any. */
  private compaction: Promise<void> | undefined;

  private constructor(
    private readonly options: EmbeddedBindingStoreOptions,
    contents: DataDirContents,
  ) {
    this.clock = options.clock ?? Date.now;
    this.compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.freezeRecords = options.freezeRecords ?? freezeByDefault();
    this.due = new DueIndex(options.shardCount);
    this.recoveredTruncatedTail = contents.skippedTail;
    this.generation = contents.generation;
    for (const entry of contents.entries) this.replay(entry as JournalEntry);
    // Frozen after the replay, not per line: patch lines change the replayed records in place.
    if (this.freezeRecords) for (const entry of this.records.values()) deepFreeze(entry.record);
    const dir = options.dataDir;
    const fsync = options.fsync ?? false;
    this.journal = new JournalWriter(nodePath.join(dir, EMBEDDED_FILES.journal), fsync, () => this.compactIfLarge(), options.journalIo, (cause, calls) => {
      this.counters.failures += calls;
      return new StoreUnavailableError('journal write failed; the embedded store stopped accepting writes', { cause });
    });
    this.deadLetters = new JournalWriter(nodePath.join(dir, EMBEDDED_FILES.deadLetters), fsync, undefined, options.journalIo, (cause, calls) => {
      this.counters.failures += calls;
      return new StoreUnavailableError('dead-letter journal write failed', { cause });
    });
    this.compactAtStart();
  }

  /** True when start-up skipped a last journal line cut by a crash. */
  readonly recoveredTruncatedTail: boolean;

  /**
   * Opens (or creates) the store in `options.dataDir`: replays and compacts the journal.
   *
   * @throws StoreFailureError when the directory is in use by a live process or the journal is damaged
   */
  static open<R extends { aor: string }>(options: EmbeddedBindingStoreOptions): EmbeddedBindingStore<R> {
    if (!Number.isInteger(options.shardCount) || options.shardCount < 1) throw new RangeError('shardCount must be a positive integer');
    const dir = nodePath.resolve(options.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    EmbeddedBindingStore.lock(dir);
    try {
      return new EmbeddedBindingStore<R>({ ...options, dataDir: dir }, readDataDir(dir));
    } catch (err) {
      EmbeddedBindingStore.unlock(dir);
      throw new StoreFailureError(`cannot open embedded store in ${dir}`, { cause: err });
    }
  }

  private static lock(dir: string): void {
    const lockPath = nodePath.join(dir, EMBEDDED_FILES.lock);
    if (lockedDirs.has(dir)) throw new StoreFailureError(`${dir} is already open in this process`);
    if (fs.existsSync(lockPath)) {
      const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      // A lock left by a crashed process (or by this pid in an earlier life) is taken over.
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) throw new StoreFailureError(`${dir} is in use by process ${pid}`);
    }
    fs.writeFileSync(lockPath, String(process.pid));
    lockedDirs.add(dir);
  }

  private static unlock(dir: string): void {
    lockedDirs.delete(dir);
    fs.rmSync(nodePath.join(dir, EMBEDDED_FILES.lock), { force: true });
  }

  async get(aor: string): Promise<StoredAor<R> | undefined> {
    return this.read(aor);
  }

  /** {@link BindingStore.getNow}: the records are in memory. */
  getNow(aor: string): StoredAor<R> | undefined {
    return this.read(aor);
  }

  private read(aor: string): StoredAor<R> | undefined {
    this.assertOpen();
    const entry = this.records.get(aor);
    this.counters.reads += 1;
    if (entry !== undefined) this.counters.itemsRead += 1;
    return entry ? { record: entry.record as R, version: entry.version } : undefined;
  }

  async getMany(aors: readonly string[]): Promise<Map<string, StoredAor<R>>> {
    this.assertOpen();
    const result = new Map<string, StoredAor<R>>();
    for (const aor of aors) {
      const entry = this.records.get(aor);
      if (entry !== undefined && !result.has(aor)) result.set(aor, { record: entry.record as R, version: entry.version });
    }
    this.counters.reads += 1;
    this.counters.itemsRead += result.size;
    return result;
  }

  put(record: R, expectedVersion: number, index: AorIndex): Promise<number> {
    // Not an async function: its frame, promise and await cost ~400 B per put; one `then` on the
    // group's shared promise costs a closure and a promise.
    let version: number;
    try {
      version = this.putInMemoryAndBuffer(record, expectedVersion, index);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.journal.endLine().then(() => version);
  }

  /**
   * The synchronous part of {@link put}: checks the version, writes the journal line into the group
   * buffer and updates memory. Throws when the put must fail (nothing of it is then in the buffer).
   */
  private putInMemoryAndBuffer(record: R, expectedVersion: number, index: AorIndex): number {
    this.assertOpen();
    const aor = record.aor;
    const current = this.records.get(aor);
    this.counters.writes += 1;
    if ((current?.version ?? 0) !== expectedVersion) {
      this.counters.conflicts += 1;
      throw new VersionConflictError(aor, expectedVersion, current?.version);
    }
    const version = expectedVersion === 0 ? this.nextFirstVersion() : expectedVersion + 1;
    const dueAtMs = index.dueAtMs === undefined ? undefined : Math.floor(index.dueAtMs);
    const ttlEpochSec = Math.floor(index.ttlEpochSec);
    // The only serialization of the record: its journal line (memory keeps the object itself). An update
    // that keeps the record's structure is journaled as its changes (an absorbed refresh: ~200 bytes
    // diffed straight into the journal's buffer instead of ~1 KB stringified in 3–6 µs).
    const journal = this.journal;
    const start = journal.startLine();
    try {
      if (current === undefined || !this.writePatchLine(current.record as object, record, version, dueAtMs, ttlEpochSec)) {
        journal.discardLine(start);
        journal.text(putLine(JSON.stringify(record), version, dueAtMs, ttlEpochSec));
      }
      this.setRecord(current, record, version, dueAtMs, ttlEpochSec);
    } catch (err) {
      // Nothing of a failed put may reach the file (e.g. a value JSON cannot hold).
      journal.discardLine(start);
      throw err;
    }
    return version;
  }

  /**
   * Writes the patch line of a put into the journal's line in progress; false when the change is
   * structural (the caller discards the partial line and journals the whole record).
   */
  private writePatchLine(previous: object, record: R, version: number, dueAtMs: number | undefined, ttlEpochSec: number): boolean {
    const journal = this.journal;
    journal.text('{"t":"q","a":');
    journal.string(record.aor);
    journal.text(',"v":');
    journal.number(version);
    journal.text(',"d":');
    if (dueAtMs === undefined) journal.text('null');
    else journal.number(dueAtMs);
    journal.text(',"x":');
    journal.number(ttlEpochSec);
    journal.text(',"o":');
    if (!writePatch(previous, record, MAX_PATCH_OPS, journal)) return false;
    journal.text('}\n');
    return true;
  }

  /** Puts `record` in memory (the entry, the due index) once its journal line is in the buffer. */
  private setRecord(current: RecordEntry | undefined, record: R, version: number, dueAtMs: number | undefined, ttlEpochSec: number): void {
    const aor = record.aor;
    if (this.freezeRecords) deepFreeze(record);
    if (current === undefined) {
      const shard = shardOf(aor, this.options.shardCount);
      this.records.set(aor, { record, version, dueAtMs, ttlEpochSec, shard });
      if (dueAtMs !== undefined) this.due.set(aor, dueAtMs, shard);
    } else {
      // Updated in place: no map write, and no due-index work when the due time is unchanged.
      const dueChanged = current.dueAtMs !== dueAtMs;
      current.record = record;
      current.version = version;
      current.dueAtMs = dueAtMs;
      current.ttlEpochSec = ttlEpochSec;
      if (dueChanged) this.due.set(aor, dueAtMs, current.shard);
    }
  }

  async delete(aor: string, expectedVersion: number): Promise<void> {
    this.assertOpen();
    const current = this.records.get(aor);
    this.counters.writes += 1;
    if (current === undefined || current.version !== expectedVersion) {
      this.counters.conflicts += 1;
      throw new VersionConflictError(aor, expectedVersion, current?.version);
    }
    this.records.delete(aor);
    if (current.dueAtMs !== undefined) this.due.set(aor, undefined, current.shard);
    return this.journal.append(`${JSON.stringify({ t: 'd', a: aor })}\n`);
  }

  async findDue(shard: number, nowMs: number, limit: number): Promise<string[]> {
    this.assertOpen();
    const aors = this.due.findDue(shard, nowMs, limit);
    this.counters.reads += 1;
    this.counters.itemsRead += aors.length;
    return aors;
  }

  async claimContactId(contactId: string, aor: string, ttlEpochSec: number): Promise<void> {
    this.assertOpen();
    const holder = this.contactIds.get(contactId);
    this.counters.writes += 1;
    if (holder !== undefined && holder.aor !== aor) {
      this.counters.conflicts += 1;
      throw new ContactIdTakenError(contactId);
    }
    const entry = { aor, ttlEpochSec: Math.floor(ttlEpochSec) };
    this.contactIds.set(contactId, entry);
    return this.journal.append(contactLine(contactId, entry));
  }

  async findAorByContactId(contactId: string): Promise<string | undefined> {
    this.assertOpen();
    const holder = this.contactIds.get(contactId);
    this.counters.reads += 1;
    if (holder !== undefined) this.counters.itemsRead += 1;
    return holder?.aor;
  }

  async releaseContactId(contactId: string, aor: string): Promise<void> {
    this.assertOpen();
    if (this.contactIds.get(contactId)?.aor !== aor) return;
    this.counters.writes += 1;
    this.contactIds.delete(contactId);
    return this.journal.append(`${JSON.stringify({ t: 'u', i: contactId })}\n`);
  }

  async putDeadLetter(letter: DeadLetter): Promise<void> {
    this.assertOpen();
    this.counters.writes += 1;
    return this.deadLetters.append(`${JSON.stringify(letter)}\n`);
  }

  stats(): StoreStats {
    return this.counters.snapshot();
  }

  resetStats(): void {
    this.counters.reset();
  }

  /** Number of stored records (for tests and status pages). */
  get recordCount(): number {
    return this.records.size;
  }

  /** Writes pending lines, closes the files and releases `dataDir`. Later calls throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.journal.close();
    this.deadLetters.close();
    EmbeddedBindingStore.unlock(this.options.dataDir);
  }

  /**
   * Compacts now (unless a compaction is running: then resolves with that one). Seals the live
   * journal, writes the snapshot in pieces with async fs while calls go on, then deletes the sealed
   * segments it covers; drops entries whose ttl passed. A failed compaction leaves the files as they
   * were (counted in `failures`) and is retried at the next threshold.
   */
  compact(): Promise<void> {
    this.assertOpen();
    this.compaction ??= this.compactInBackground().finally(() => {
      this.compaction = undefined;
    });
    return this.compaction;
  }

  /** Resolves when no compaction is running (e.g. before a planned shutdown); never rejects. */
  async whenCompacted(): Promise<void> {
    await this.compaction?.catch(() => undefined);
  }

  private async compactInBackground(): Promise<void> {
    const dir = this.options.dataDir;
    let generation: number;
    try {
      generation = this.sealJournal();
    } catch (err) {
      this.counters.failures += 1;
      throw new StoreUnavailableError('embedded store compaction could not seal the journal', { cause: err });
    }
    const snapshotPath = nodePath.join(dir, EMBEDDED_FILES.snapshot);
    const tmp = `${snapshotPath}.${process.pid}.${generation}.tmp`;
    const lines = this.snapshotLines(generation);
    const nextPiece = (): string | undefined => {
      const piece: string[] = [];
      let size = 0;
      for (let next = lines.next(); !next.done; next = lines.next()) {
        piece.push(next.value);
        size += next.value.length;
        if (size >= SNAPSHOT_PIECE_CHARS) break;
      }
      return piece.length === 0 ? undefined : piece.join('');
    };
    try {
      const bytes = await writeFileAtomically(snapshotPath, tmp, nextPiece, () => this.closed);
      if (bytes === undefined) return;
      this.snapshotBytes = bytes;
      await this.removeSealedUpTo(generation);
    } catch (err) {
      this.counters.failures += 1;
      throw new StoreUnavailableError('embedded store compaction failed; the journal is unchanged', { cause: err });
    }
  }

  /** Start-up compaction, synchronous (nothing else runs yet): also clears a crashed run's leftovers. */
  private compactAtStart(): void {
    const dir = this.options.dataDir;
    for (const name of fs.readdirSync(dir)) if (SNAPSHOT_TMP_NAME.test(name)) fs.rmSync(nodePath.join(dir, name), { force: true });
    const generation = this.sealJournal();
    this.snapshotBytes = rewriteJournal(nodePath.join(dir, EMBEDDED_FILES.snapshot), this.snapshotLines(generation));
    for (const name of fs.readdirSync(dir)) {
      const match = SEALED_NAME.exec(name);
      if (match !== null && Number(match[1]) <= generation) fs.rmSync(nodePath.join(dir, name), { force: true });
    }
  }

  /** Seals the live journal as the next generation; appends continue in a new live journal. */
  private sealJournal(): number {
    this.generation += 1;
    this.journal.seal(nodePath.join(this.options.dataDir, sealedJournalName(this.generation)));
    return this.generation;
  }

  /**
   * The snapshot's lines, read from memory lazily: entries changed while it is written may appear in
   * their old or new state; either is right, since the live journal replays every later change.
   */
  private *snapshotLines(generation: number): Generator<string> {
    yield `{"t":"s","g":${generation}}\n`;
    const nowSec = Math.floor(this.clock() / 1000);
    for (const [aor, entry] of this.records) {
      if (entry.ttlEpochSec < nowSec) {
        this.records.delete(aor);
        if (entry.dueAtMs !== undefined) this.due.set(aor, undefined, entry.shard);
        continue;
      }
      yield putLine(JSON.stringify(entry.record), entry.version, entry.dueAtMs, entry.ttlEpochSec);
    }
    for (const [id, entry] of this.contactIds) {
      if (entry.ttlEpochSec < nowSec) {
        this.contactIds.delete(id);
        continue;
      }
      yield contactLine(id, entry);
    }
  }

  private async removeSealedUpTo(generation: number): Promise<void> {
    const dir = this.options.dataDir;
    for (const name of await fs.promises.readdir(dir)) {
      const match = SEALED_NAME.exec(name);
      if (match !== null && Number(match[1]) <= generation) await fs.promises.rm(nodePath.join(dir, name), { force: true });
    }
  }

  private compactIfLarge(): void {
    if (this.compaction !== undefined || this.closed) return;
    if (this.journal.bytesWritten > Math.max(this.compactMinBytes, 2 * this.snapshotBytes)) {
      // Failures are counted in stats; the journal stays complete, so calls go on.
      this.compact().catch(() => undefined);
    }
  }

  private replay(entry: JournalEntry): void {
    switch (entry.t) {
      case 'p': {
        const aor = entry.r.aor;
        const dueAtMs = entry.d ?? undefined;
        const shard = shardOf(aor, this.options.shardCount);
        this.records.set(aor, { record: entry.r, version: entry.v, dueAtMs, ttlEpochSec: entry.x, shard });
        this.due.set(aor, dueAtMs, shard);
        this.lastFirstVersion = Math.max(this.lastFirstVersion, entry.v);
        break;
      }
      case 'q':
        this.replayPatch(entry);
        break;
      case 'd':
        this.records.delete(entry.a);
        this.due.set(entry.a, undefined);
        break;
      case 'c':
        this.contactIds.set(entry.i, { aor: entry.a, ttlEpochSec: entry.x });
        break;
      case 'u':
        this.contactIds.delete(entry.i);
        break;
      default:
        throw new StoreFailureError(`unknown journal entry ${JSON.stringify(entry)}`);
    }
  }

  /**
   * A patch line applies to version v − 1 of its record. The snapshot is written while puts go on, so it
   * may already hold version v or later (the line is skipped), or no record at all when a later line
   * deletes it or the record's ttl passed before the snapshot (skipped too: nothing of it survives).
   */
  private replayPatch(entry: Extract<JournalEntry, { t: 'q' }>): void {
    const current = this.records.get(entry.a);
    if (current === undefined || current.version >= entry.v) return;
    if (current.version !== entry.v - 1) throw new StoreFailureError(`journal lacks version ${entry.v - 1} of ${entry.a} (has ${current.version})`);
    try {
      applyPatch(current.record as object, entry.o);
    } catch (err) {
      if (err instanceof PatchMismatchError) throw new StoreFailureError(`journal patch of ${entry.a} version ${entry.v} does not fit the record`, { cause: err });
      throw err;
    }
    const dueAtMs = entry.d ?? undefined;
    current.version = entry.v;
    current.dueAtMs = dueAtMs;
    current.ttlEpochSec = entry.x;
    this.due.set(entry.a, dueAtMs, current.shard);
    this.lastFirstVersion = Math.max(this.lastFirstVersion, entry.v);
  }

  /** First versions are strictly increasing in this store, above every version it has seen (no ABA). */
  private nextFirstVersion(): number {
    this.lastFirstVersion = Math.max(firstVersion(this.clock(), 0), this.lastFirstVersion + 1);
    return this.lastFirstVersion;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreFailureError('embedded store is closed');
    const failure = this.journal.failed;
    if (failure !== undefined) throw new StoreUnavailableError('journal write failed; the embedded store stopped accepting calls', { cause: failure });
  }
}

