/**
 * Embedded adapter of the {@link BindingStore} port, for `npm start` (one process): in-memory maps
 * plus an append-only journal in `dataDir`, so bindings survive a restart (GEN-1).
 *
 * @remarks
 * - A call decides and updates memory synchronously (so writes on one AoR are serialized exactly as
 *   DynamoDB's conditional writes are) and resolves once its journal line is written; lines of one
 *   event-loop turn share one write (group commit). `kill -9` loses nothing acknowledged (the data is
 *   in the OS page cache); power loss is out of scope unless `fsync: true`.
 * - Start-up replays `journal.jsonl`, skipping a last line cut by a crash, then compacts: the file is
 *   rewritten atomically with one line per live record and contact id. It is compacted again when it
 *   holds more than max(`compactMinLines`, 2 × live entries) lines. Compaction drops records and
 *   contact ids whose ttl passed (like DynamoDB TTL, garbage collection only: reads never filter on
 *   ttl, and a deleted record never comes back, because deletes are journaled).
 * - Dead letters go to `dead-letters.jsonl`, append-only, never compacted.
 * - A `LOCK` file holding the pid keeps two processes from sharing `dataDir`.
 * - Cost: a put is one JSON.stringify of the record plus a share of one write(2); a get one JSON.parse.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { firstVersion, type AorIndex, type BindingStore, type DeadLetter, type StoredAor } from './binding-store';
import { DueIndex } from './due-index';
import { ContactIdTakenError, StoreFailureError, StoreUnavailableError, VersionConflictError } from './errors';
import { JournalWriter, readJournal, type JournalIo } from './journal-file';
import { StoreStatsCounter, type StoreStats } from './store-stats';

/** Options of {@link EmbeddedBindingStore.open}. */
export interface EmbeddedBindingStoreOptions {
  /** Directory for the journal, created if missing. */
  dataDir: string;
  /** Number of due-index shards (same meaning as in the DynamoDB adapter). */
  shardCount: number;
  /** fsync after each group write: survives power loss, at the cost of a disk flush per group. @default false */
  fsync?: boolean;
  /** Lower bound of journal lines before a compaction. @default 50_000 */
  compactMinLines?: number;
  /** Clock (epoch ms), for first versions and ttl collection. @default Date.now */
  clock?: () => number;
  /** Journal write and fsync calls; tests inject failures here. @default node:fs */
  journalIo?: JournalIo;
}

/** File names inside `dataDir`. */
export const EMBEDDED_FILES = { journal: 'journal.jsonl', deadLetters: 'dead-letters.jsonl', lock: 'LOCK' } as const;

interface RecordEntry {
  /** The record as JSON (what the journal holds; parsed on every get so callers never share state). */
  json: string;
  version: number;
  dueAtMs: number | undefined;
  ttlEpochSec: number;
}

interface ContactIdEntry {
  aor: string;
  ttlEpochSec: number;
}

/** Journal lines: put, delete, claim, release. */
type JournalEntry =
  | { t: 'p'; v: number; d: number | null; x: number; r: { aor: string } }
  | { t: 'd'; a: string }
  | { t: 'c'; i: string; a: string; x: number }
  | { t: 'u'; i: string };

/** Data directories held by this process. */
const lockedDirs = new Set<string>();

function putLine(json: string, version: number, dueAtMs: number | undefined, ttlEpochSec: number): string {
  return `{"t":"p","v":${version},"d":${dueAtMs ?? 'null'},"x":${ttlEpochSec},"r":${json}}\n`;
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
  private readonly compactMinLines: number;
  private lastFirstVersion = 0;
  private closed = false;

  private constructor(
    private readonly options: EmbeddedBindingStoreOptions,
    /** True when start-up skipped a last journal line cut by a crash. */
    readonly recoveredTruncatedTail: boolean,
    entries: unknown[],
  ) {
    this.clock = options.clock ?? Date.now;
    this.compactMinLines = options.compactMinLines ?? 50_000;
    this.due = new DueIndex(options.shardCount);
    for (const entry of entries) this.replay(entry as JournalEntry);
    const dir = options.dataDir;
    const fsync = options.fsync ?? false;
    this.journal = new JournalWriter(nodePath.join(dir, EMBEDDED_FILES.journal), fsync, () => this.compactIfLarge(), options.journalIo);
    this.deadLetters = new JournalWriter(nodePath.join(dir, EMBEDDED_FILES.deadLetters), fsync, undefined, options.journalIo);
    this.compact();
  }

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
      const { entries, skippedTail } = readJournal(nodePath.join(dir, EMBEDDED_FILES.journal));
      return new EmbeddedBindingStore<R>({ ...options, dataDir: dir }, skippedTail, entries);
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
    this.assertOpen();
    const entry = this.records.get(aor);
    this.counters.add({ reads: 1, itemsRead: entry ? 1 : 0 });
    return entry ? { record: JSON.parse(entry.json) as R, version: entry.version } : undefined;
  }

  async getMany(aors: readonly string[]): Promise<Map<string, StoredAor<R>>> {
    this.assertOpen();
    const result = new Map<string, StoredAor<R>>();
    for (const aor of aors) {
      const entry = this.records.get(aor);
      if (entry !== undefined && !result.has(aor)) result.set(aor, { record: JSON.parse(entry.json) as R, version: entry.version });
    }
    this.counters.add({ reads: 1, itemsRead: result.size });
    return result;
  }

  async put(record: R, expectedVersion: number, index: AorIndex): Promise<number> {
    this.assertOpen();
    const aor = record.aor;
    const current = this.records.get(aor);
    this.counters.add({ writes: 1 });
    if ((current?.version ?? 0) !== expectedVersion) {
      this.counters.add({ conflicts: 1 });
      throw new VersionConflictError(aor, expectedVersion, current?.version);
    }
    const version = expectedVersion === 0 ? this.nextFirstVersion() : expectedVersion + 1;
    const json = JSON.stringify(record);
    const dueAtMs = index.dueAtMs === undefined ? undefined : Math.floor(index.dueAtMs);
    const ttlEpochSec = Math.floor(index.ttlEpochSec);
    this.records.set(aor, { json, version, dueAtMs, ttlEpochSec });
    this.due.set(aor, dueAtMs);
    await this.append(putLine(json, version, dueAtMs, ttlEpochSec));
    return version;
  }

  async delete(aor: string, expectedVersion: number): Promise<void> {
    this.assertOpen();
    const current = this.records.get(aor);
    this.counters.add({ writes: 1 });
    if (current === undefined || current.version !== expectedVersion) {
      this.counters.add({ conflicts: 1 });
      throw new VersionConflictError(aor, expectedVersion, current?.version);
    }
    this.records.delete(aor);
    this.due.set(aor, undefined);
    return this.append(`${JSON.stringify({ t: 'd', a: aor })}\n`);
  }

  async findDue(shard: number, nowMs: number, limit: number): Promise<string[]> {
    this.assertOpen();
    const aors = this.due.findDue(shard, nowMs, limit);
    this.counters.add({ reads: 1, itemsRead: aors.length });
    return aors;
  }

  async claimContactId(contactId: string, aor: string, ttlEpochSec: number): Promise<void> {
    this.assertOpen();
    const holder = this.contactIds.get(contactId);
    this.counters.add({ writes: 1 });
    if (holder !== undefined && holder.aor !== aor) {
      this.counters.add({ conflicts: 1 });
      throw new ContactIdTakenError(contactId);
    }
    const entry = { aor, ttlEpochSec: Math.floor(ttlEpochSec) };
    this.contactIds.set(contactId, entry);
    return this.append(`${JSON.stringify({ t: 'c', i: contactId, a: aor, x: entry.ttlEpochSec })}\n`);
  }

  async findAorByContactId(contactId: string): Promise<string | undefined> {
    this.assertOpen();
    const holder = this.contactIds.get(contactId);
    this.counters.add({ reads: 1, itemsRead: holder ? 1 : 0 });
    return holder?.aor;
  }

  async releaseContactId(contactId: string, aor: string): Promise<void> {
    this.assertOpen();
    if (this.contactIds.get(contactId)?.aor !== aor) return;
    this.counters.add({ writes: 1 });
    this.contactIds.delete(contactId);
    return this.append(`${JSON.stringify({ t: 'u', i: contactId })}\n`);
  }

  async putDeadLetter(letter: DeadLetter): Promise<void> {
    this.assertOpen();
    this.counters.add({ writes: 1 });
    return this.deadLetters.append(`${JSON.stringify(letter)}\n`).catch((err: unknown) => {
      this.counters.add({ failures: 1 });
      throw new StoreUnavailableError('dead-letter journal write failed', { cause: err });
    });
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

  /** Rewrites the journal as one line per live entry, dropping entries whose ttl passed. */
  compact(): void {
    const nowSec = Math.floor(this.clock() / 1000);
    for (const [aor, entry] of this.records) {
      if (entry.ttlEpochSec < nowSec) {
        this.records.delete(aor);
        this.due.set(aor, undefined);
      }
    }
    for (const [id, entry] of this.contactIds) if (entry.ttlEpochSec < nowSec) this.contactIds.delete(id);
    const records = this.records;
    const contactIds = this.contactIds;
    function* lines(): Generator<string> {
      for (const entry of records.values()) yield putLine(entry.json, entry.version, entry.dueAtMs, entry.ttlEpochSec);
      for (const [i, entry] of contactIds) yield `${JSON.stringify({ t: 'c', i, a: entry.aor, x: entry.ttlEpochSec })}\n`;
    }
    this.journal.rewrite(lines());
  }

  private compactIfLarge(): void {
    if (this.journal.linesWritten > Math.max(this.compactMinLines, 2 * (this.records.size + this.contactIds.size))) this.compact();
  }

  private append(line: string): Promise<void> {
    return this.journal.append(line).catch((err: unknown) => {
      this.counters.add({ failures: 1 });
      throw new StoreUnavailableError('journal write failed; the embedded store stopped accepting writes', { cause: err });
    });
  }

  private replay(entry: JournalEntry): void {
    switch (entry.t) {
      case 'p': {
        const aor = entry.r.aor;
        const dueAtMs = entry.d ?? undefined;
        this.records.set(aor, { json: JSON.stringify(entry.r), version: entry.v, dueAtMs, ttlEpochSec: entry.x });
        this.due.set(aor, dueAtMs);
        this.lastFirstVersion = Math.max(this.lastFirstVersion, entry.v);
        break;
      }
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

