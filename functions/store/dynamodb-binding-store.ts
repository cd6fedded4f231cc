/**
 * DynamoDB adapter of the {@link BindingStore} port (production). One item per AoR
 * (table-schema.ts), committed by one conditional PutItem on `version`.
 *
 * @remarks
 * Conditional writes are built from named sub-expressions, Powertools-style:
 *
 * ```
 * writer A: get(v=7) ── decide ── put(if version = 7) ─► ok, v=8
 * writer B: get(v=7) ── decide ─────────── put(if version = 7) ─► ConditionalCheckFailed → VersionConflictError
 *                                                                  B re-reads v=8 and re-decides (GEN-5)
 * ```
 *
 * Reads are strongly consistent by default: a decision that reads a stale record only loses its
 * conditional write and retries, but the register-reply commit follows its relay's write by tens of
 * milliseconds, so eventually consistent reads would turn into conflict loops. Set `consistentRead:
 * false` to halve read units where staleness is harmless.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type BatchGetCommandOutput,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { firstVersion, shardOf, type AorIndex, type BindingStore, type DeadLetter, type StoredAor } from './binding-store';
import { ContactIdTakenError, StoreFailureError, StoreUnavailableError, VersionConflictError } from './errors';
import { toStoreError } from './dynamodb-error-mapper';
import { StoreStatsCounter, type StoreStats } from './store-stats';
import {
  AOR_SORT_KEY,
  ATTR,
  CONTACT_ID_SORT_KEY,
  DUE_INDEX_NAME,
  aorFromPartitionKey,
  aorPartitionKey,
  contactIdPartitionKey,
  deadLetterSortKey,
} from './table-schema';

/** Options of {@link DynamoDbBindingStore}. */
export interface DynamoDbBindingStoreOptions {
  /** SDK v3 client, created once at module scope by the handler (timeouts and retries configured there). */
  client: DynamoDBClient;
  tableName: string;
  /** Number of due-index shards; must equal the number of sweep schedules. */
  shardCount: number;
  /** Strongly consistent reads of records. @default true */
  consistentRead?: boolean;
  /** How long dead letters are kept (seconds). @default 2_592_000 (30 days) */
  deadLetterRetentionSec?: number;
  /** Attempts of a BatchGetItem while keys come back unprocessed. @default 5 */
  maxBatchAttempts?: number;
  /** First backoff between BatchGetItem attempts (ms), doubled each time. @default 25 */
  batchBackoffMs?: number;
  /** Clock (epoch ms), for first versions. @default Date.now */
  clock?: () => number;
}

/** BatchGetItem takes at most 100 keys per request. */
const BATCH_GET_LIMIT = 100;

/** Named condition expressions. */
const CONDITION = {
  /** No item with this key exists yet (create). */
  itemAbsent: 'attribute_not_exists(#pk)',
  /** The stored version is the one the writer read (update, delete). */
  versionMatches: '#version = :expectedVersion',
  /** The contact id is free, or already ours (an idempotent re-claim extends the ttl). */
  contactIdFreeOrOurs: 'attribute_not_exists(#pk) OR #aor = :aor',
  /** The contact id is held by this AoR. */
  contactIdOurs: '#aor = :aor',
} as const;

interface RecordItem {
  pk: string;
  sk: string;
  doc: string;
  version: number;
}

function isConditionalCheckFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ConditionalCheckFailedException';
}

/** The version in an `ALL_OLD` item carried by a conditional-check failure (marshalled or not). */
function versionFromFailedCheck(err: unknown): number | undefined {
  const item = (err as { Item?: Record<string, unknown> }).Item;
  const raw = item?.[ATTR.version];
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'object' && raw !== null && typeof (raw as { N?: unknown }).N === 'string') return Number((raw as { N: string }).N);
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * BindingStore on a DynamoDB table created from `createTableInput` (table-schema.ts).
 *
 * @example
 * ```ts
 * const client = new DynamoDBClient({}); // module scope
 * const store = new DynamoDbBindingStore<AorRecord>({ client, tableName: env.tableName, shardCount: 16 });
 * ```
 */
export class DynamoDbBindingStore<R extends { aor: string }> implements BindingStore<R> {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly shardCount: number;
  private readonly consistentRead: boolean;
  private readonly deadLetterRetentionSec: number;
  private readonly maxBatchAttempts: number;
  private readonly batchBackoffMs: number;
  private readonly clock: () => number;
  private readonly counters = new StoreStatsCounter();

  constructor(options: DynamoDbBindingStoreOptions) {
    if (!Number.isInteger(options.shardCount) || options.shardCount < 1) throw new RangeError('shardCount must be a positive integer');
    this.doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = options.tableName;
    this.shardCount = options.shardCount;
    this.consistentRead = options.consistentRead ?? true;
    this.deadLetterRetentionSec = options.deadLetterRetentionSec ?? 30 * 24 * 3600;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 5;
    this.batchBackoffMs = options.batchBackoffMs ?? 25;
    this.clock = options.clock ?? Date.now;
  }

  async get(aor: string): Promise<StoredAor<R> | undefined> {
    const out = await this.call(`GetItem ${aor}`, () =>
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [ATTR.partitionKey]: aorPartitionKey(aor), [ATTR.sortKey]: AOR_SORT_KEY },
          ConsistentRead: this.consistentRead,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.counters.add({ reads: 1, itemsRead: out.Item ? 1 : 0, readCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
    return out.Item ? this.toStored(out.Item as RecordItem) : undefined;
  }

  async getMany(aors: readonly string[]): Promise<Map<string, StoredAor<R>>> {
    const result = new Map<string, StoredAor<R>>();
    const unique = [...new Set(aors)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      await this.batchGet(unique.slice(i, i + BATCH_GET_LIMIT), result);
    }
    return result;
  }

  /** One BatchGetItem of ≤ 100 keys, retrying unprocessed keys with exponential backoff. */
  private async batchGet(aors: string[], into: Map<string, StoredAor<R>>): Promise<void> {
    let keys: Record<string, unknown>[] = aors.map((aor) => ({ [ATTR.partitionKey]: aorPartitionKey(aor), [ATTR.sortKey]: AOR_SORT_KEY }));
    for (let attempt = 1; keys.length > 0; attempt += 1) {
      if (attempt > this.maxBatchAttempts) {
        this.counters.add({ failures: 1 });
        throw new StoreUnavailableError(`BatchGetItem: ${keys.length} keys still unprocessed after ${this.maxBatchAttempts} attempts`);
      }
      if (attempt > 1) await sleep(this.batchBackoffMs * 2 ** (attempt - 2));
      const requestKeys = keys;
      const out: BatchGetCommandOutput = await this.call(`BatchGetItem (${requestKeys.length} keys)`, () =>
        this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: requestKeys, ConsistentRead: this.consistentRead } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      const items = out.Responses?.[this.tableName] ?? [];
      const units = (out.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      this.counters.add({ reads: 1, itemsRead: items.length, readCapacityUnits: units });
      for (const item of items) {
        const stored = this.toStored(item as RecordItem);
        into.set(stored.record.aor, stored);
      }
      keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
  }

  async put(record: R, expectedVersion: number, index: AorIndex): Promise<number> {
    const aor = record.aor;
    const version = expectedVersion === 0 ? firstVersion(this.clock(), randomInt(1000)) : expectedVersion + 1;
    const item: Record<string, unknown> = {
      [ATTR.partitionKey]: aorPartitionKey(aor),
      [ATTR.sortKey]: AOR_SORT_KEY,
      [ATTR.document]: JSON.stringify(record),
      [ATTR.version]: version,
      [ATTR.ttl]: Math.floor(index.ttlEpochSec),
    };
    // Sparse due index: only AoRs with timed work appear in the GSI (no scan, no empty entries).
    if (index.dueAtMs !== undefined) {
      item[ATTR.dueShard] = String(shardOf(aor, this.shardCount));
      item[ATTR.dueAtMs] = Math.floor(index.dueAtMs);
    }
    const condition: Pick<PutCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
      expectedVersion === 0
        ? { ConditionExpression: CONDITION.itemAbsent, ExpressionAttributeNames: { '#pk': ATTR.partitionKey } }
        : {
            ConditionExpression: CONDITION.versionMatches,
            ExpressionAttributeNames: { '#version': ATTR.version },
            ExpressionAttributeValues: { ':expectedVersion': expectedVersion },
          };
    const out = await this.conditional(aor, expectedVersion, `PutItem ${aor}`, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...condition,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.counters.add({ writeCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
    return version;
  }

  async delete(aor: string, expectedVersion: number): Promise<void> {
    const out = await this.conditional(aor, expectedVersion, `DeleteItem ${aor}`, () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [ATTR.partitionKey]: aorPartitionKey(aor), [ATTR.sortKey]: AOR_SORT_KEY },
          ConditionExpression: CONDITION.versionMatches,
          ExpressionAttributeNames: { '#version': ATTR.version },
          ExpressionAttributeValues: { ':expectedVersion': expectedVersion },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.counters.add({ writeCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
  }

  async findDue(shard: number, nowMs: number, limit: number): Promise<string[]> {
    const aors: string[] = [];
    if (limit < 1) return aors;
    let startKey: Record<string, unknown> | undefined;
    do {
      const exclusiveStartKey = startKey;
      const out = await this.call(`Query ${DUE_INDEX_NAME} shard ${shard}`, () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: DUE_INDEX_NAME,
            KeyConditionExpression: '#dueShard = :shard AND #dueAtMs <= :nowMs',
            ExpressionAttributeNames: { '#dueShard': ATTR.dueShard, '#dueAtMs': ATTR.dueAtMs },
            ExpressionAttributeValues: { ':shard': String(shard), ':nowMs': Math.floor(nowMs) },
            Limit: limit - aors.length,
            ExclusiveStartKey: exclusiveStartKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      const items = out.Items ?? [];
      this.counters.add({ reads: 1, itemsRead: items.length, readCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
      for (const item of items) {
        const aor = aorFromPartitionKey(String(item[ATTR.partitionKey]));
        if (aor !== undefined) aors.push(aor);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey !== undefined && aors.length < limit);
    return aors;
  }

  async claimContactId(contactId: string, aor: string, ttlEpochSec: number): Promise<void> {
    try {
      const out = await this.call(`PutItem contact id ${contactId}`, () =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [ATTR.partitionKey]: contactIdPartitionKey(contactId),
              [ATTR.sortKey]: CONTACT_ID_SORT_KEY,
              [ATTR.aor]: aor,
              [ATTR.ttl]: Math.floor(ttlEpochSec),
            },
            ConditionExpression: CONDITION.contactIdFreeOrOurs,
            ExpressionAttributeNames: { '#pk': ATTR.partitionKey, '#aor': ATTR.aor },
            ExpressionAttributeValues: { ':aor': aor },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
        { writes: 1 },
      );
      this.counters.add({ writeCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      this.counters.add({ conflicts: 1 });
      throw new ContactIdTakenError(contactId, { cause: err });
    }
  }

  async findAorByContactId(contactId: string): Promise<string | undefined> {
    const out = await this.call(`GetItem contact id ${contactId}`, () =>
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [ATTR.partitionKey]: contactIdPartitionKey(contactId), [ATTR.sortKey]: CONTACT_ID_SORT_KEY },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.counters.add({ reads: 1, itemsRead: out.Item ? 1 : 0, readCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
    const aor = out.Item?.[ATTR.aor];
    return typeof aor === 'string' ? aor : undefined;
  }

  async releaseContactId(contactId: string, aor: string): Promise<void> {
    try {
      const out = await this.call(`DeleteItem contact id ${contactId}`, () =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { [ATTR.partitionKey]: contactIdPartitionKey(contactId), [ATTR.sortKey]: CONTACT_ID_SORT_KEY },
            ConditionExpression: CONDITION.contactIdOurs,
            ExpressionAttributeNames: { '#aor': ATTR.aor },
            ExpressionAttributeValues: { ':aor': aor },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
        { writes: 1 },
      );
      this.counters.add({ writeCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
    } catch (err) {
      // Absent or held by another AoR: nothing of ours to release.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async putDeadLetter(letter: DeadLetter): Promise<void> {
    const out = await this.call(`PutItem dead letter ${letter.aor}`, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [ATTR.partitionKey]: aorPartitionKey(letter.aor),
            [ATTR.sortKey]: deadLetterSortKey(letter.atMs, letter.kind, randomUUID()),
            [ATTR.document]: JSON.stringify(letter),
            [ATTR.ttl]: Math.floor(letter.atMs / 1000) + this.deadLetterRetentionSec,
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
      { writes: 1 },
    );
    this.counters.add({ writeCapacityUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 });
  }

  stats(): StoreStats {
    return this.counters.snapshot();
  }

  resetStats(): void {
    this.counters.reset();
  }

  /**
   * Runs one SDK call, counting `count` (writes are counted even when they fail: they are billed) and
   * translating failures. A ConditionalCheckFailedException passes through for the caller to map.
   */
  private async call<T>(operation: string, send: () => Promise<T>, count: { writes?: number } = {}): Promise<T> {
    this.counters.add(count);
    try {
      return await send();
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw err;
      this.counters.add({ failures: 1 });
      throw toStoreError(err, operation);
    }
  }

  /** A conditional write on the AoR record: a failed check becomes {@link VersionConflictError}. */
  private async conditional<T>(aor: string, expectedVersion: number, operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await this.call(operation, send, { writes: 1 });
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      this.counters.add({ conflicts: 1 });
      throw new VersionConflictError(aor, expectedVersion, versionFromFailedCheck(err), { cause: err });
    }
  }

  private toStored(item: RecordItem): StoredAor<R> {
    try {
      return { record: JSON.parse(item.doc) as R, version: Number(item.version) };
    } catch (err) {
      throw new StoreFailureError(`corrupt record in ${item.pk}`, { cause: err });
    }
  }
}
