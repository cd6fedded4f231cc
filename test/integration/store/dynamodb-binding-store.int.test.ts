import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { shardOf } from '../../../functions/store/binding-store';
import { DynamoDbBindingStore } from '../../../functions/store/dynamodb-binding-store';
import { ContactIdTakenError, VersionConflictError } from '../../../functions/store/errors';
import { aorPartitionKey } from '../../../functions/store/table-schema';
import { startDynalite, type DynaliteHandle } from '../../support/dynalite';

interface TestRecord {
  aor: string;
  contacts: string[];
}

const SHARDS = 4;
const TTL = 2_000_000_000;

/** AoRs that all fall into `shard`. */
function aorsInShard(shard: number, count: number, prefix: string): string[] {
  const aors: string[] = [];
  for (let i = 0; aors.length < count; i += 1) {
    const aor = `${prefix}${i}@example.com`;
    if (shardOf(aor, SHARDS) === shard) aors.push(aor);
  }
  return aors;
}

/** Read-modify-write with retry on conflict, as a handler does (GEN-5). */
async function addContact(store: DynamoDbBindingStore<TestRecord>, aor: string, contact: string): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const stored = await store.get(aor);
    const record = stored?.record ?? { aor, contacts: [] };
    try {
      await store.put({ aor, contacts: [...record.contacts, contact] }, stored?.version ?? 0, { ttlEpochSec: TTL });
      return attempt;
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
    }
  }
}

describe('Class: DynamoDbBindingStore (dynalite)', () => {
  let db: DynaliteHandle;
  let store: DynamoDbBindingStore<TestRecord>;

  beforeAll(async () => {
    db = await startDynalite();
    store = new DynamoDbBindingStore<TestRecord>({ client: db.client, tableName: db.tableName, shardCount: SHARDS, batchBackoffMs: 1 });
  });

  afterAll(async () => {
    await db.stop();
  });

  describe('Method: put / get', () => {
    it('stores a new record whole and returns it with its version', async () => {
      // Prepare
      const record = { aor: 'put-get@example.com', contacts: ['sip:a@192.0.2.1', 'sip:b@192.0.2.2'] };

      // Act
      const version = await store.put(record, 0, { ttlEpochSec: TTL });
      const stored = await store.get(record.aor);

      // Assess
      expect(version).toBeGreaterThan(0);
      expect(stored).toEqual({ record, version });
    });

    it('returns undefined for an AoR never stored', async () => {
      // Act
      const stored = await store.get('nobody@example.com');

      // Assess
      expect(stored).toBeUndefined();
    });

    it('GEN-5: a create loses against an existing record and a stale update loses against a newer one', async () => {
      // Prepare
      const aor = 'conflict@example.com';
      const v1 = await store.put({ aor, contacts: ['sip:first@192.0.2.1'] }, 0, { ttlEpochSec: TTL });
      const v2 = await store.put({ aor, contacts: ['sip:second@192.0.2.1'] }, v1, { ttlEpochSec: TTL });

      // Act
      const create = store.put({ aor, contacts: ['sip:lost@192.0.2.1'] }, 0, { ttlEpochSec: TTL });
      const stale = store.put({ aor, contacts: ['sip:lost@192.0.2.1'] }, v1, { ttlEpochSec: TTL });

      // Assess
      await expect(create).rejects.toBeInstanceOf(VersionConflictError);
      await expect(stale).rejects.toMatchObject({ name: 'VersionConflictError', aor, expectedVersion: v1 });
      expect(v2).toBe(v1 + 1);
      expect((await store.get(aor))?.record.contacts).toEqual(['sip:second@192.0.2.1']);
    });

    it('GEN-5: 50 concurrent read-modify-write adds on one AoR lose no contact', async () => {
      // Prepare
      const aor = 'race@example.com';
      const contacts = Array.from({ length: 50 }, (_, i) => `sip:device${i}@192.0.2.${i + 1}`);
      store.resetStats();

      // Act
      const attempts = await Promise.all(contacts.map((c) => addContact(store, aor, c)));

      // Assess
      const stored = await store.get(aor);
      expect(new Set(stored?.record.contacts)).toEqual(new Set(contacts));
      expect(stored?.record.contacts).toHaveLength(50);
      expect(Math.max(...attempts)).toBeGreaterThan(1);
      expect(store.stats().conflicts).toBeGreaterThan(0);
    }, 60_000);
  });

  describe('Method: delete', () => {
    it('deletes with the current version and refuses a stale one', async () => {
      // Prepare
      const aor = 'delete@example.com';
      const v1 = await store.put({ aor, contacts: [] }, 0, { ttlEpochSec: TTL });
      const v2 = await store.put({ aor, contacts: ['sip:x@192.0.2.1'] }, v1, { ttlEpochSec: TTL });

      // Act
      const stale = store.delete(aor, v1);
      await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
      await store.delete(aor, v2);

      // Assess
      expect(await store.get(aor)).toBeUndefined();
      await expect(store.delete(aor, v2)).rejects.toBeInstanceOf(VersionConflictError);
    });

    it('GEN-3: a writer holding a version of a deleted record cannot overwrite the record created after it', async () => {
      // Prepare: old record reaches some version, is deleted, a new one is created and updated.
      const aor = 'aba@example.com';
      const old1 = await store.put({ aor, contacts: ['sip:old@192.0.2.1'] }, 0, { ttlEpochSec: TTL });
      const old2 = await store.put({ aor, contacts: ['sip:old@192.0.2.1'] }, old1, { ttlEpochSec: TTL });
      await store.delete(aor, old2);
      const new1 = await store.put({ aor, contacts: ['sip:new@192.0.2.9'] }, 0, { ttlEpochSec: TTL });
      await store.put({ aor, contacts: ['sip:new@192.0.2.9'] }, new1, { ttlEpochSec: TTL });

      // Act: a slow writer that read the old record at old1 or old2 commits now.
      const staleWrites = [old1, old2].map((v) => store.put({ aor, contacts: ['sip:old@192.0.2.1'] }, v, { ttlEpochSec: TTL }));

      // Assess
      for (const write of staleWrites) await expect(write).rejects.toBeInstanceOf(VersionConflictError);
      expect((await store.get(aor))?.record.contacts).toEqual(['sip:new@192.0.2.9']);
    });
  });

  describe('Method: getMany', () => {
    it('reads more than one BatchGetItem page, ignoring duplicates and absent AoRs', async () => {
      // Prepare
      const aors = Array.from({ length: 130 }, (_, i) => `many${i}@example.com`);
      const versions = new Map<string, number>();
      for (const aor of aors) versions.set(aor, await store.put({ aor, contacts: [`sip:${aor}`] }, 0, { ttlEpochSec: TTL }));

      // Act
      const found = await store.getMany([...aors, aors[0], 'absent@example.com']);

      // Assess
      expect(found.size).toBe(130);
      expect(found.get('many129@example.com')).toEqual({ record: { aor: 'many129@example.com', contacts: ['sip:many129@example.com'] }, version: versions.get('many129@example.com') });
      expect(found.has('absent@example.com')).toBe(false);
    });
  });

  describe('Method: findDue', () => {
    it('finds due AoRs of one shard through the sparse GSI, earliest first, up to the limit', async () => {
      // Prepare
      const [late, early, notDue, noWork, cleared] = aorsInShard(2, 5, 'due');
      const [otherShard] = aorsInShard(1, 1, 'due');
      const put = (aor: string, dueAtMs?: number) => store.put({ aor, contacts: [] }, 0, { dueAtMs, ttlEpochSec: TTL });
      await put(late, 5_000);
      await put(early, 1_000);
      await put(notDue, 9_000);
      await put(noWork);
      await put(otherShard, 1_000);
      const clearedVersion = await put(cleared, 2_000);
      await store.put({ aor: cleared, contacts: [] }, clearedVersion, { ttlEpochSec: TTL });

      // Act
      const due = await store.findDue(2, 6_000, 10);
      const first = await store.findDue(2, 6_000, 1);

      // Assess
      expect(due).toEqual([early, late]);
      expect(first).toEqual([early]);
      expect(await store.findDue(1, 6_000, 10)).toEqual([otherShard]);
    });
  });

  describe('Method: claimContactId / findAorByContactId / releaseContactId', () => {
    it('FWD-4: a contact id belongs to one AoR until released', async () => {
      // Prepare
      const id = '4250694360795977181';
      await store.claimContactId(id, 'owner@example.com', TTL);

      // Act
      const takenByOther = store.claimContactId(id, 'other@example.com', TTL);
      const reclaim = store.claimContactId(id, 'owner@example.com', TTL + 60);

      // Assess
      await expect(takenByOther).rejects.toBeInstanceOf(ContactIdTakenError);
      await expect(reclaim).resolves.toBeUndefined();
      expect(await store.findAorByContactId(id)).toBe('owner@example.com');
    });

    it('LKP-2: release by another AoR is a no-op, release by the owner frees the id', async () => {
      // Prepare
      const id = '88';
      await store.claimContactId(id, 'owner@example.com', TTL);

      // Act
      await store.releaseContactId(id, 'other@example.com');
      const afterForeignRelease = await store.findAorByContactId(id);
      await store.releaseContactId(id, 'owner@example.com');

      // Assess
      expect(afterForeignRelease).toBe('owner@example.com');
      expect(await store.findAorByContactId(id)).toBeUndefined();
      expect(await store.findAorByContactId('unknown')).toBeUndefined();
    });
  });

  describe('Method: putDeadLetter', () => {
    it('DRG-6: keeps every final failure in the AoR partition, apart from the record', async () => {
      // Prepare
      const aor = 'dead@example.com';
      await store.put({ aor, contacts: [] }, 0, { ttlEpochSec: TTL });

      // Act
      await store.putDeadLetter({ aor, kind: 'deregister', detail: { contact: 'sip:x@192.0.2.1', attempts: 5 }, atMs: 1_700_000_000_000 });
      await store.putDeadLetter({ aor, kind: 'deregister', detail: { contact: 'sip:x@192.0.2.1', attempts: 5 }, atMs: 1_700_000_000_000 });

      // Assess
      const out = await db.client.send(
        new QueryCommand({
          TableName: db.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dlq)',
          ExpressionAttributeValues: { ':pk': { S: aorPartitionKey(aor) }, ':dlq': { S: 'DLQ#' } },
        }),
      );
      expect(out.Items).toHaveLength(2);
      expect(JSON.parse(out.Items![0].doc.S!)).toMatchObject({ aor, kind: 'deregister', detail: { attempts: 5 } });
      expect((await store.get(aor))?.record).toEqual({ aor, contacts: [] });
    });
  });

  describe('Method: stats', () => {
    it('counts one read and one write per read-modify-write, with capacity units', async () => {
      // Prepare
      const aor = 'stats@example.com';
      await store.put({ aor, contacts: [] }, 0, { ttlEpochSec: TTL });
      store.resetStats();

      // Act
      const stored = await store.get(aor);
      await store.put({ aor, contacts: ['sip:s@192.0.2.1'] }, stored!.version, { ttlEpochSec: TTL });

      // Assess
      expect(store.stats()).toMatchObject({ reads: 1, writes: 1, itemsRead: 1, conflicts: 0, failures: 0 });
      expect(store.stats().readCapacityUnits).toBeGreaterThan(0);
      expect(store.stats().writeCapacityUnits).toBeGreaterThan(0);
    });
  });
});
