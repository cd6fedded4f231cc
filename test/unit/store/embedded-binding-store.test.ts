import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shardOf } from '../../../functions/store/binding-store';
import { EMBEDDED_FILES, EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import type { JournalIo } from '../../../functions/store/journal-file';
import { ContactIdTakenError, StoreFailureError, StoreUnavailableError, VersionConflictError } from '../../../functions/store/errors';

interface TestRecord {
  aor: string;
  contacts: string[];
}

const SHARDS = 4;
const NOW_MS = 1_700_000_000_000;
const TTL = NOW_MS / 1000 + 3600;

describe('Class: EmbeddedBindingStore', () => {
  let dataDir: string;
  const open: EmbeddedBindingStore<TestRecord>[] = [];

  function openStore(
    options: { compactMinBytes?: number; clock?: () => number; journalIo?: JournalIo; freezeRecords?: boolean } = {},
  ): EmbeddedBindingStore<TestRecord> {
    const store = EmbeddedBindingStore.open<TestRecord>({ dataDir, shardCount: SHARDS, clock: () => NOW_MS, ...options });
    open.push(store);
    return store;
  }

  function fileLines(name: string): string[] {
    return fs.readFileSync(path.join(dataDir, name), 'utf8').split('\n').filter((l) => l !== '');
  }

  function journalLines(): string[] {
    return fileLines(EMBEDDED_FILES.journal);
  }

  function snapshotEntries(): string[] {
    return fileLines(EMBEDDED_FILES.snapshot).slice(1);
  }

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-store-'));
  });

  afterEach(() => {
    for (const store of open.splice(0)) store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('Method: put / get / delete', () => {
    it('GEN-5: commits only on the expected version, like the DynamoDB adapter', async () => {
      // Prepare
      const store = openStore();
      const aor = 'alice@example.com';
      const v1 = await store.put({ aor, contacts: ['sip:a@192.0.2.1'] }, 0, { ttlEpochSec: TTL });

      // Act
      const create = await store.put({ aor, contacts: [] }, 0, { ttlEpochSec: TTL }).catch((e: unknown) => e);
      const v2 = await store.put({ aor, contacts: ['sip:b@192.0.2.2'] }, v1, { ttlEpochSec: TTL });
      const stale = await store.put({ aor, contacts: [] }, v1, { ttlEpochSec: TTL }).catch((e: unknown) => e);
      const staleDelete = await store.delete(aor, v1).catch((e: unknown) => e);

      // Assess
      expect(create).toBeInstanceOf(VersionConflictError);
      expect(stale).toMatchObject({ name: 'VersionConflictError', currentVersion: v2 });
      expect(staleDelete).toBeInstanceOf(VersionConflictError);
      expect(v2).toBe(v1 + 1);
      expect(await store.get(aor)).toEqual({ record: { aor, contacts: ['sip:b@192.0.2.2'] }, version: v2 });
      expect(store.stats()).toMatchObject({ reads: 1, writes: 5, conflicts: 3 });
    });

    it('hands out the stored record without copying, frozen in tests: changing it throws and the store keeps its state', async () => {
      // Prepare
      const store = openStore();
      await store.put({ aor: 'a@x', contacts: ['sip:1@x'] }, 0, { ttlEpochSec: TTL });
      const first = await store.get('a@x');

      // Act
      const push = () => first!.record.contacts.push('sip:mutated@x');
      const assign = () => {
        (first!.record as { aor: string }).aor = 'b@x';
      };

      // Assess
      expect(push).toThrow(TypeError);
      expect(assign).toThrow(TypeError);
      expect((await store.get('a@x'))!.record).toBe(first!.record);
      expect((await store.get('a@x'))!.record.contacts).toEqual(['sip:1@x']);
    });

    it('freezes the record passed to put, so a caller changing it after the commit throws instead of diverging from the journal', async () => {
      // Prepare
      const store = openStore();
      const record = { aor: 'a@x', contacts: ['sip:1@x'] };

      // Act
      await store.put(record, 0, { ttlEpochSec: TTL });
      const change = () => record.contacts.push('sip:2@x');

      // Assess
      expect(change).toThrow(TypeError);
      expect(Object.isFrozen(record.contacts)).toBe(true);
    });

    it('with freezeRecords false shares the record unfrozen (production: no walk per put)', async () => {
      // Prepare
      const store = openStore({ freezeRecords: false });
      const record = { aor: 'a@x', contacts: ['sip:1@x'] };

      // Act
      await store.put(record, 0, { ttlEpochSec: TTL });
      const stored = await store.get('a@x');

      // Assess
      expect(stored!.record).toBe(record);
      expect(Object.isFrozen(record)).toBe(false);
    });

    it('GEN-3: a writer holding a version of a deleted record cannot overwrite the one created after it', async () => {
      // Prepare
      const store = openStore();
      const old1 = await store.put({ aor: 'a@x', contacts: ['sip:old@x'] }, 0, { ttlEpochSec: TTL });
      await store.delete('a@x', old1);
      const new1 = await store.put({ aor: 'a@x', contacts: ['sip:new@x'] }, 0, { ttlEpochSec: TTL });

      // Act
      const stale = store.put({ aor: 'a@x', contacts: ['sip:old@x'] }, old1, { ttlEpochSec: TTL });

      // Assess
      await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
      expect(new1).toBeGreaterThan(old1);
    });

    it('getMany returns present records once each', async () => {
      // Prepare
      const store = openStore();
      await store.put({ aor: 'a@x', contacts: [] }, 0, { ttlEpochSec: TTL });
      await store.put({ aor: 'b@x', contacts: [] }, 0, { ttlEpochSec: TTL });

      // Act
      const found = await store.getMany(['a@x', 'b@x', 'a@x', 'c@x']);

      // Assess
      expect([...found.keys()]).toEqual(['a@x', 'b@x']);
    });
  });

  describe('Method: open (persistence)', () => {
    it('GEN-1: a new instance on the same directory sees records, versions, due times and contact ids', async () => {
      // Prepare
      const first = openStore();
      const due = 'p0@x';
      const v1 = await first.put({ aor: due, contacts: ['sip:1@x'] }, 0, { dueAtMs: NOW_MS + 5, ttlEpochSec: TTL });
      const v2 = await first.put({ aor: due, contacts: ['sip:2@x'] }, v1, { dueAtMs: NOW_MS + 10, ttlEpochSec: TTL });
      await first.claimContactId('777', due, TTL);
      first.close();

      // Act
      const second = openStore();

      // Assess
      expect(await second.get(due)).toEqual({ record: { aor: due, contacts: ['sip:2@x'] }, version: v2 });
      expect(await second.findDue(shardOf(due, SHARDS), NOW_MS + 10, 10)).toEqual([due]);
      expect(await second.findDue(shardOf(due, SHARDS), NOW_MS + 9, 10)).toEqual([]);
      expect(await second.findAorByContactId('777')).toBe(due);
    });

    it('GEN-3: deleted records and released contact ids do not come back after a restart', async () => {
      // Prepare
      const first = openStore();
      const v = await first.put({ aor: 'gone@x', contacts: [] }, 0, { dueAtMs: NOW_MS, ttlEpochSec: TTL });
      await first.claimContactId('9', 'gone@x', TTL);
      await first.delete('gone@x', v);
      await first.releaseContactId('9', 'gone@x');
      first.close();

      // Act
      const second = openStore();

      // Assess
      expect(await second.get('gone@x')).toBeUndefined();
      expect(await second.findAorByContactId('9')).toBeUndefined();
      expect(await second.findDue(shardOf('gone@x', SHARDS), NOW_MS, 10)).toEqual([]);
      expect(second.recordCount).toBe(0);
    });

    it('skips a last line cut by a crash, keeps every earlier line, and appends cleanly after it', async () => {
      // Prepare
      const first = openStore();
      await first.put({ aor: 'kept@x', contacts: ['sip:k@x'] }, 0, { ttlEpochSec: TTL });
      first.close();
      fs.appendFileSync(path.join(dataDir, EMBEDDED_FILES.journal), '{"t":"p","v":5,"d":null,"x":1,"r":{"aor":"torn@x","cont');

      // Act
      const second = openStore();
      await second.put({ aor: 'after@x', contacts: [] }, 0, { ttlEpochSec: TTL });
      second.close();
      const third = openStore();

      // Assess
      expect(second.recoveredTruncatedTail).toBe(true);
      expect((await third.get('kept@x'))?.record.contacts).toEqual(['sip:k@x']);
      expect(await third.get('torn@x')).toBeUndefined();
      expect(await third.get('after@x')).toBeDefined();
      expect(third.recoveredTruncatedTail).toBe(false);
    });

    it('refuses a journal damaged before its last line instead of silently losing data', () => {
      // Prepare
      fs.writeFileSync(path.join(dataDir, EMBEDDED_FILES.journal), '{"t":"p","v":1,"d":null,"x":1,"r":{"aor":"a@x"}}\n{garbage\n{"t":"d","a":"a@x"}\n');

      // Act
      const opening = () => openStore();

      // Assess
      expect(opening).toThrow(StoreFailureError);
    });

    it('refuses a directory already open in this process until it is closed', () => {
      // Prepare
      const first = openStore();

      // Act
      const second = () => openStore();

      // Assess
      expect(second).toThrow(StoreFailureError);
      first.close();
      expect(() => openStore()).not.toThrow();
    });
  });

  describe('Method: compact', () => {
    it('keeps the journal bounded under repeated updates and loses nothing', async () => {
      // Prepare
      // ~100-byte patch lines: a 9,000-byte threshold compacts about every 90 lines.
      const store = openStore({ compactMinBytes: 9_000 });
      const versions = new Map<string, number>();
      for (let i = 0; i < 10; i += 1) versions.set(`c${i}@x`, await store.put({ aor: `c${i}@x`, contacts: [] }, 0, { ttlEpochSec: TTL }));

      let longestJournal = 0;
      const generations = new Set<string>();

      // Act
      for (let round = 1; round <= 100; round += 1) {
        await Promise.all(
          [...versions].map(async ([aor, v]) => versions.set(aor, await store.put({ aor, contacts: [`sip:${round}@x`] }, v, { ttlEpochSec: TTL }))),
        );
        longestJournal = Math.max(longestJournal, journalLines().length);
        await store.whenCompacted();
        generations.add(fileLines(EMBEDDED_FILES.snapshot)[0]);
      }
      await store.compact();
      store.close();
      const reopened = openStore();

      // Assess: 1010 puts, but never more than the threshold plus one group in the live journal.
      expect(longestJournal).toBeLessThanOrEqual(110);
      expect(generations.size).toBeGreaterThanOrEqual(9);
      for (const [aor, v] of versions) expect(await reopened.get(aor)).toEqual({ record: { aor, contacts: ['sip:100@x'] }, version: v });
      expect(snapshotEntries()).toHaveLength(10);
      expect(journalLines()).toHaveLength(0);
      expect(fs.readdirSync(dataDir).filter((name) => name.startsWith('journal.') && name !== EMBEDDED_FILES.journal)).toEqual([]);
    });

    it('counts bytes, not lines: small patch lines wait until the journal holds twice the snapshot', async () => {
      // Prepare: 10 records of ~1 KB, so the snapshot is ~10 KB and the floor (1,000 bytes) does not apply.
      const store = openStore({ compactMinBytes: 1_000 });
      const versions = new Map<string, number>();
      const padding = 'p'.repeat(1_000);
      for (let i = 0; i < 10; i += 1) versions.set(`b${i}@x`, await store.put({ aor: `b${i}@x`, contacts: [padding, 'sip:0@x'] }, 0, { ttlEpochSec: TTL }));
      // The first puts passed the floor: let that compaction end, then snapshot all ten.
      await store.whenCompacted();
      await store.compact();
      const snapshotBytes = fs.statSync(path.join(dataDir, EMBEDDED_FILES.snapshot)).size;
      const generation = (): string => fileLines(EMBEDDED_FILES.snapshot)[0];
      const compactedAt = generation();
      const refreshAll = async (round: number): Promise<void> => {
        await Promise.all(
          [...versions].map(async ([aor, v]) => versions.set(aor, await store.put({ aor, contacts: [padding, `sip:${round}@x`] }, v, { ttlEpochSec: TTL }))),
        );
        await store.whenCompacted();
      };

      // Act: patch lines of ~100 bytes, far more lines than the 20 live entries' worth.
      let round = 1;
      for (; fs.statSync(path.join(dataDir, EMBEDDED_FILES.journal)).size + 1_100 <= 2 * snapshotBytes; round += 1) await refreshAll(round);
      const journalLinesBefore = journalLines().length;
      const generationBefore = generation();
      for (let more = 0; more < 3; more += 1, round += 1) await refreshAll(round);

      // Assess
      expect(journalLinesBefore).toBeGreaterThan(100);
      expect(generationBefore).toBe(compactedAt);
      expect(generation()).not.toBe(compactedAt);
    });

    it('drops records and contact ids whose ttl passed (garbage collection), keeps the rest', async () => {
      // Prepare
      let nowMs = NOW_MS;
      const store = openStore({ clock: () => nowMs });
      await store.put({ aor: 'short@x', contacts: [] }, 0, { dueAtMs: NOW_MS, ttlEpochSec: NOW_MS / 1000 + 10 });
      await store.put({ aor: 'long@x', contacts: [] }, 0, { ttlEpochSec: NOW_MS / 1000 + 1000 });
      await store.claimContactId('1', 'short@x', NOW_MS / 1000 + 10);

      // Act
      nowMs = NOW_MS + 11_000;
      await store.compact();

      // Assess
      expect(await store.get('short@x')).toBeUndefined();
      expect(await store.findAorByContactId('1')).toBeUndefined();
      expect(await store.findDue(shardOf('short@x', SHARDS), nowMs, 10)).toEqual([]);
      expect(await store.get('long@x')).toBeDefined();
    });
  });

  describe('Compaction and crashes (snapshot + journal segments)', () => {
    it('GEN-1: puts acknowledged during a compaction that never finished (crash before the snapshot rename) all come back', async () => {
      // Prepare
      const store = openStore();
      const versions = new Map<string, number>();
      for (let i = 0; i < 20; i += 1) versions.set(`r${i}@x`, await store.put({ aor: `r${i}@x`, contacts: ['sip:old@x'] }, 0, { ttlEpochSec: TTL }));
      const compaction = store.compact();

      // Act: updates land in the new live journal while the snapshot is being written, then the process stops.
      await Promise.all([...versions].map(async ([aor, v]) => versions.set(aor, await store.put({ aor, contacts: ['sip:new@x'] }, v, { ttlEpochSec: TTL }))));
      store.close();
      await compaction;
      const filesAtCrash = fs.readdirSync(dataDir);
      const reopened = openStore();

      // Assess
      expect(filesAtCrash).toEqual(expect.arrayContaining(['journal.2.jsonl', EMBEDDED_FILES.journal, EMBEDDED_FILES.snapshot]));
      expect(filesAtCrash.filter((name) => name.endsWith('.tmp'))).toEqual([]);
      for (const [aor, v] of versions) expect(await reopened.get(aor)).toEqual({ record: { aor, contacts: ['sip:new@x'] }, version: v });
    });

    it('GEN-3: a sealed segment left behind by a crash after the snapshot rename is not replayed over the newer state', async () => {
      // Prepare
      const store = openStore();
      const va = await store.put({ aor: 'a@x', contacts: ['sip:1@x'] }, 0, { ttlEpochSec: TTL });
      const vb = await store.put({ aor: 'b@x', contacts: ['sip:1@x'] }, 0, { ttlEpochSec: TTL });
      const sealedContents = fs.readFileSync(path.join(dataDir, EMBEDDED_FILES.journal), 'utf8');
      await store.compact();
      const va2 = await store.put({ aor: 'a@x', contacts: ['sip:2@x'] }, va, { ttlEpochSec: TTL });
      await store.delete('b@x', vb);
      store.close();

      // Act: the crash happened between the rename of the snapshot and the deletion of segment 2.
      fs.writeFileSync(path.join(dataDir, 'journal.2.jsonl'), sealedContents);
      const reopened = openStore();

      // Assess
      expect(await reopened.get('a@x')).toEqual({ record: { aor: 'a@x', contacts: ['sip:2@x'] }, version: va2 });
      expect(await reopened.get('b@x')).toBeUndefined();
      expect(fs.readdirSync(dataDir)).not.toContain('journal.2.jsonl');
    });

    it('skips a line cut by a crash at the end of a sealed segment, replays the later segments, and removes a half-written snapshot', async () => {
      // Prepare
      const first = openStore();
      await first.put({ aor: 'kept@x', contacts: [] }, 0, { ttlEpochSec: TTL });
      first.close();
      fs.renameSync(path.join(dataDir, EMBEDDED_FILES.journal), path.join(dataDir, 'journal.2.jsonl'));
      fs.appendFileSync(path.join(dataDir, 'journal.2.jsonl'), '{"t":"p","v":5,"d":null,"x":1,"r":{"aor":"torn@x"');
      fs.writeFileSync(path.join(dataDir, EMBEDDED_FILES.journal), '{"t":"p","v":7,"d":null,"x":4000000000,"r":{"aor":"later@x","contacts":[]}}\n');
      fs.writeFileSync(path.join(dataDir, `${EMBEDDED_FILES.snapshot}.999.3.tmp`), '{"t":"s","g":3}\n{"t":"p","v":1,"d":nu');

      // Act
      const second = openStore();

      // Assess
      expect(second.recoveredTruncatedTail).toBe(true);
      expect(await second.get('kept@x')).toBeDefined();
      expect(await second.get('torn@x')).toBeUndefined();
      expect(await second.get('later@x')).toEqual({ record: { aor: 'later@x', contacts: [] }, version: 7 });
      expect(fs.readdirSync(dataDir).sort()).toEqual([EMBEDDED_FILES.deadLetters, EMBEDDED_FILES.journal, EMBEDDED_FILES.lock, EMBEDDED_FILES.snapshot].sort());
    });

    it('acknowledges puts while the snapshot is written, without waiting for the compaction', async () => {
      // Prepare
      const store = openStore();
      for (let i = 0; i < 2000; i += 1) await store.put({ aor: `r${i}@x`, contacts: ['sip:1@x'.repeat(20)] }, 0, { ttlEpochSec: TTL });
      let compacted = false;
      const compaction = store.compact().then(() => {
        compacted = true;
      });

      // Act
      const v = await store.put({ aor: 'during@x', contacts: [] }, 0, { ttlEpochSec: TTL });
      const acknowledgedBeforeCompaction = !compacted;
      await compaction;

      // Assess
      expect(acknowledgedBeforeCompaction).toBe(true);
      expect(journalLines()).toEqual([expect.stringContaining(`"v":${v}`)]);
    });
  });

  describe('Method: findDue', () => {
    it('returns due AoRs of one shard, earliest first, following updates and clears', async () => {
      // Prepare
      const store = openStore();
      const aors = Array.from({ length: 40 }, (_, i) => `d${i}@x`).filter((a) => shardOf(a, SHARDS) === 0).slice(0, 4);
      const [a, b, c, d] = aors;
      const va = await store.put({ aor: a, contacts: [] }, 0, { dueAtMs: 300, ttlEpochSec: TTL });
      await store.put({ aor: b, contacts: [] }, 0, { dueAtMs: 100, ttlEpochSec: TTL });
      const vc = await store.put({ aor: c, contacts: [] }, 0, { dueAtMs: 200, ttlEpochSec: TTL });
      await store.put({ aor: d, contacts: [] }, 0, { dueAtMs: 900, ttlEpochSec: TTL });

      // Act
      await store.put({ aor: a, contacts: [] }, va, { dueAtMs: 50, ttlEpochSec: TTL });
      await store.put({ aor: c, contacts: [] }, vc, { ttlEpochSec: TTL });

      // Assess
      expect(await store.findDue(0, 500, 10)).toEqual([a, b]);
      expect(await store.findDue(0, 500, 1)).toEqual([a]);
      expect(await store.findDue(0, 500, 10)).toEqual([a, b]);
    });
  });

  describe('Method: claimContactId', () => {
    it('FWD-4: a contact id belongs to one AoR; its owner may claim it again', async () => {
      // Prepare
      const store = openStore();
      await store.claimContactId('42', 'owner@x', TTL);

      // Act
      const other = store.claimContactId('42', 'other@x', TTL);
      const again = store.claimContactId('42', 'owner@x', TTL + 1);
      await store.releaseContactId('42', 'other@x');

      // Assess
      await expect(other).rejects.toBeInstanceOf(ContactIdTakenError);
      await expect(again).resolves.toBeUndefined();
      expect(await store.findAorByContactId('42')).toBe('owner@x');
    });
  });

  describe('Method: putDeadLetter', () => {
    it('DRG-6: appends each final failure to dead-letters.jsonl', async () => {
      // Prepare
      const store = openStore();

      // Act
      await store.putDeadLetter({ aor: 'a@x', kind: 'deregister', detail: { attempts: 5 }, atMs: NOW_MS });

      // Assess
      const lines = fs.readFileSync(path.join(dataDir, EMBEDDED_FILES.deadLetters), 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l))).toEqual([{ aor: 'a@x', kind: 'deregister', detail: { attempts: 5 }, atMs: NOW_MS }]);
    });
  });

  describe('Journal writes', () => {
    it('writes puts issued in the same event-loop turn with one write(2) and acknowledges them after it', async () => {
      // Prepare
      const writeSync = jest.fn((fd: number, data: Uint8Array) => fs.writeSync(fd, data));
      const store = openStore({ journalIo: { writeSync, fsyncSync: (fd) => fs.fsyncSync(fd) } });

      // Act
      const versions = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put({ aor: `g${i}@x`, contacts: [] }, 0, { ttlEpochSec: TTL })));

      // Assess
      expect(versions).toHaveLength(50);
      expect(writeSync).toHaveBeenCalledTimes(1);
      expect(journalLines()).toHaveLength(50);
    });

    it('GEN-1: journals a group larger than the write buffer, with multi-byte UTF-8, and replays it intact', async () => {
      // Prepare: 800 records of ~1.5 KB each (1.2 MB in one group: the buffer grows, then is replaced),
      // with 2-, 3- and 4-byte UTF-8 characters; then one more group in the replaced buffer.
      const store = openStore();
      const contact = `sip:ü€😀@x;${'p'.repeat(1500)}`;
      const puts = Array.from({ length: 800 }, (_, i) => store.put({ aor: `ü${i}@x`, contacts: [contact] }, 0, { ttlEpochSec: TTL }));
      const versions = await Promise.all(puts);
      versions.push(await store.put({ aor: 'ü800@x', contacts: [contact] }, 0, { ttlEpochSec: TTL }));
      store.close();

      // Act
      const reopened = openStore();

      // Assess
      expect(reopened.recoveredTruncatedTail).toBe(false);
      for (let i = 0; i <= 800; i += 1) expect(await reopened.get(`ü${i}@x`)).toEqual({ record: { aor: `ü${i}@x`, contacts: [contact] }, version: versions[i] });
    });

    it('ERR-5: a failed journal write rejects with StoreUnavailableError and the store stops acknowledging', async () => {
      // Prepare
      const diskFull = (): number => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      };
      const store = openStore({ journalIo: { writeSync: diskFull, fsyncSync: () => undefined } });

      // Act
      const failed = store.put({ aor: 'a@x', contacts: [] }, 0, { ttlEpochSec: TTL });

      // Assess
      await expect(failed).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.get('a@x')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.put({ aor: 'b@x', contacts: [] }, 0, { ttlEpochSec: TTL })).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(store.stats().failures).toBe(1);
    });

    it('ERR-5: every call of a failed group write rejects with StoreUnavailableError and counts as a failure', async () => {
      // Prepare
      const diskFull = (): number => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      };
      const store = openStore({ journalIo: { writeSync: diskFull, fsyncSync: () => undefined } });

      // Act
      const calls = [
        store.put({ aor: 'a@x', contacts: [] }, 0, { ttlEpochSec: TTL }),
        store.put({ aor: 'b@x', contacts: [] }, 0, { ttlEpochSec: TTL }),
        store.claimContactId('c1', 'a@x', TTL),
      ];

      // Assess
      for (const call of calls) await expect(call).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(store.stats().failures).toBe(3);
    });
  });

  describe('Patch lines (an update journaled as its changes)', () => {
    function writeFiles(snapshot: string[], journal: string[]): void {
      fs.writeFileSync(path.join(dataDir, EMBEDDED_FILES.snapshot), [JSON.stringify({ t: 's', g: 1 }), ...snapshot, ''].join('\n'));
      fs.writeFileSync(path.join(dataDir, EMBEDDED_FILES.journal), [...journal, ''].join('\n'));
    }

    const put = (version: number, contacts: string[]): string => JSON.stringify({ t: 'p', v: version, d: NOW_MS + version, x: TTL, r: { aor: 'q@x', contacts } });
    const patch = (version: number, contact: string): string =>
      JSON.stringify({ t: 'q', a: 'q@x', v: version, d: NOW_MS + version, x: TTL, o: [[['contacts', 1], contact]] });

    it('GEN-1: an update that keeps the record structure is journaled as a short patch line and replays to the same record', async () => {
      // Prepare
      const first = openStore();
      const v1 = await first.put({ aor: 'q@x', contacts: ['sip:1@x', 'sip:2@x'] }, 0, { dueAtMs: NOW_MS + 5, ttlEpochSec: TTL });

      // Act
      const v2 = await first.put({ aor: 'q@x', contacts: ['sip:1@x', 'sip:3@x'] }, v1, { dueAtMs: NOW_MS + 10, ttlEpochSec: TTL });
      const v3 = await first.put({ aor: 'q@x', contacts: ['sip:1@x'] }, v2, { dueAtMs: NOW_MS + 20, ttlEpochSec: TTL });
      first.close();
      const lines = journalLines().map((line) => JSON.parse(line) as { t: string });
      const second = openStore();

      // Assess
      expect(lines.map((line) => line.t)).toEqual(['p', 'q', 'p']);
      expect(lines[1]).toEqual({ t: 'q', a: 'q@x', v: v2, d: NOW_MS + 10, x: TTL, o: [[['contacts', 1], 'sip:3@x']] });
      expect(await second.get('q@x')).toEqual({ record: { aor: 'q@x', contacts: ['sip:1@x'] }, version: v3 });
      expect(await second.findDue(shardOf('q@x', SHARDS), NOW_MS + 20, 10)).toEqual(['q@x']);
    });

    it('GEN-1: skips patch lines whose version the snapshot already holds and applies the later ones, due time included', async () => {
      // Prepare: a snapshot written while versions 6 and 7 were journaled holds version 6.
      writeFiles([put(6, ['sip:1@x', 'sip:6@x'])], [patch(6, 'sip:6@x'), patch(7, 'sip:7@x')]);

      // Act
      const store = openStore();

      // Assess
      expect(await store.get('q@x')).toEqual({ record: { aor: 'q@x', contacts: ['sip:1@x', 'sip:7@x'] }, version: 7 });
      expect(await store.findDue(shardOf('q@x', SHARDS), NOW_MS + 7, 10)).toEqual(['q@x']);
      expect(await store.findDue(shardOf('q@x', SHARDS), NOW_MS + 6, 10)).toEqual([]);
    });

    it('GEN-3: a patch of a record the snapshot no longer holds (deleted later) is skipped, and the delete stands', async () => {
      // Prepare
      writeFiles([], [patch(7, 'sip:7@x'), JSON.stringify({ t: 'd', a: 'q@x' })]);

      // Act
      const store = openStore();

      // Assess
      expect(await store.get('q@x')).toBeUndefined();
    });

    it.each([
      ['a version is missing before a patch', [put(5, ['sip:1@x', 'sip:5@x'])], [patch(7, 'sip:7@x')]],
      ['a patch path does not fit the record', [put(5, ['sip:1@x'])], [JSON.stringify({ t: 'q', a: 'q@x', v: 6, d: null, x: TTL, o: [[['contacts', 0, 'x'], 1]] })]],
    ])('refuses to open when %s (a damaged journal), instead of serving a wrong record', (_name, snapshot, journal) => {
      // Prepare
      writeFiles(snapshot, [...journal, put(99, ['sip:later@x'])]);

      // Act / Assess
      expect(() => openStore()).toThrow(StoreFailureError);
    });
  });
});
