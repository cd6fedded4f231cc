import { ConditionalCheckFailedException, DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { shardOf } from '../../../functions/store/binding-store';
import { DynamoDbBindingStore } from '../../../functions/store/dynamodb-binding-store';
import { StoreError, StoreFailureError, StoreUnavailableError, VersionConflictError } from '../../../functions/store/errors';

interface TestRecord {
  aor: string;
  n: number;
}

const AOR = 'alice@example.com';
const docMock = mockClient(DynamoDBDocumentClient);

function newStore(): DynamoDbBindingStore<TestRecord> {
  return new DynamoDbBindingStore<TestRecord>({
    client: new DynamoDBClient({ region: 'us-east-1' }),
    tableName: 'bindings',
    shardCount: 8,
    batchBackoffMs: 0,
    clock: () => 1_700_000_000_000,
  });
}

function throttled(): ProvisionedThroughputExceededException {
  return new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} });
}

describe('Class: DynamoDbBindingStore (mocked SDK)', () => {
  beforeEach(() => {
    docMock.reset();
  });

  describe('Method: put', () => {
    it('writes the record compactly with a named version condition and the sparse due attributes', async () => {
      // Prepare
      docMock.on(PutCommand).resolves({ ConsumedCapacity: { TableName: 'bindings', CapacityUnits: 1 } });
      const store = newStore();

      // Act
      const version = await store.put({ aor: AOR, n: 1 }, 41, { dueAtMs: 1_700_000_030_000.7, ttlEpochSec: 1_700_003_600 });

      // Assess
      expect(version).toBe(42);
      const input = docMock.commandCalls(PutCommand)[0].args[0].input;
      expect(input).toMatchObject({
        TableName: 'bindings',
        Item: { pk: `AOR#${AOR}`, sk: 'AOR', doc: '{"aor":"alice@example.com","n":1}', version: 42, ttl: 1_700_003_600, dueShard: String(shardOf(AOR, 8)), dueAtMs: 1_700_000_030_000 },
        ConditionExpression: '#version = :expectedVersion',
        ExpressionAttributeValues: { ':expectedVersion': 41 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ReturnConsumedCapacity: 'TOTAL',
      });
      expect(store.stats()).toMatchObject({ writes: 1, writeCapacityUnits: 1 });
    });

    it('creates with attribute_not_exists, a clock-derived first version, and no due attributes without due work', async () => {
      // Prepare
      docMock.on(PutCommand).resolves({});
      const store = newStore();

      // Act
      const version = await store.put({ aor: AOR, n: 0 }, 0, { ttlEpochSec: 1 });

      // Assess
      const input = docMock.commandCalls(PutCommand)[0].args[0].input;
      expect(input.ConditionExpression).toBe('attribute_not_exists(#pk)');
      expect(input.Item).not.toHaveProperty('dueShard');
      expect(input.Item).not.toHaveProperty('dueAtMs');
      expect(version).toBeGreaterThanOrEqual(1_700_000_000_000_000);
      expect(version).toBeLessThan(1_700_000_000_001_000);
    });

    it('GEN-5: a conditional-check race becomes VersionConflictError carrying the winner version', async () => {
      // Prepare: the SDK returns the ALL_OLD item marshalled on the exception.
      docMock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: { version: { N: '43' } } }));
      const store = newStore();

      // Act
      const put = store.put({ aor: AOR, n: 2 }, 42, { ttlEpochSec: 1 });

      // Assess
      await expect(put).rejects.toBeInstanceOf(VersionConflictError);
      await expect(put).rejects.toMatchObject({ aor: AOR, expectedVersion: 42, currentVersion: 43 });
      expect(store.stats()).toMatchObject({ writes: 1, conflicts: 1, failures: 0 });
    });

    it('ERR-5: throttling becomes StoreUnavailableError with the SDK error as cause', async () => {
      // Prepare
      const sdkError = throttled();
      docMock.on(PutCommand).rejects(sdkError);
      const store = newStore();

      // Act
      const error = await store.put({ aor: AOR, n: 2 }, 42, { ttlEpochSec: 1 }).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).cause).toBe(sdkError);
      expect(store.stats()).toMatchObject({ writes: 1, failures: 1 });
    });

    it('ERR-5: a request timeout becomes StoreUnavailableError', async () => {
      // Prepare: what the SDK's HTTP handler raises when requestTimeout elapses.
      docMock.on(PutCommand).rejects(Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }));
      const store = newStore();

      // Act
      const put = store.put({ aor: AOR, n: 2 }, 42, { ttlEpochSec: 1 });

      // Assess
      await expect(put).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('ERR-5: a refused connection becomes StoreUnavailableError', async () => {
      // Prepare
      docMock.on(GetCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }));
      const store = newStore();

      // Act
      const get = store.get(AOR);

      // Assess
      await expect(get).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('ERR-5: a non-transient failure (missing table) becomes StoreFailureError', async () => {
      // Prepare
      docMock.on(GetCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException', $fault: 'client' }));
      const store = newStore();

      // Act
      const get = store.get(AOR);

      // Assess
      await expect(get).rejects.toBeInstanceOf(StoreFailureError);
    });
  });

  describe('Method: get', () => {
    it('reads strongly consistent and parses the stored document', async () => {
      // Prepare
      docMock.on(GetCommand).resolves({ Item: { pk: `AOR#${AOR}`, sk: 'AOR', doc: '{"aor":"alice@example.com","n":7}', version: 9 }, ConsumedCapacity: { CapacityUnits: 1 } });
      const store = newStore();

      // Act
      const stored = await store.get(AOR);

      // Assess
      expect(stored).toEqual({ record: { aor: AOR, n: 7 }, version: 9 });
      expect(docMock.commandCalls(GetCommand)[0].args[0].input).toMatchObject({ ConsistentRead: true, Key: { pk: `AOR#${AOR}`, sk: 'AOR' } });
      expect(store.stats()).toMatchObject({ reads: 1, itemsRead: 1, readCapacityUnits: 1 });
    });

    it('reports a corrupt document as StoreFailureError instead of returning garbage', async () => {
      // Prepare
      docMock.on(GetCommand).resolves({ Item: { pk: `AOR#${AOR}`, sk: 'AOR', doc: '{"aor":', version: 9 } });
      const store = newStore();

      // Act
      const get = store.get(AOR);

      // Assess
      await expect(get).rejects.toBeInstanceOf(StoreFailureError);
    });
  });

  describe('Method: getMany', () => {
    it('retries unprocessed keys until every record is read', async () => {
      // Prepare
      const item = (aor: string) => ({ pk: `AOR#${aor}`, sk: 'AOR', doc: JSON.stringify({ aor, n: 1 }), version: 5 });
      docMock
        .on(BatchGetCommand)
        .resolvesOnce({ Responses: { bindings: [item('a@x')] }, UnprocessedKeys: { bindings: { Keys: [{ pk: 'AOR#b@x', sk: 'AOR' }] } } })
        .resolvesOnce({ Responses: { bindings: [item('b@x')] }, UnprocessedKeys: {} });
      const store = newStore();

      // Act
      const found = await store.getMany(['a@x', 'b@x']);

      // Assess
      expect([...found.keys()].sort()).toEqual(['a@x', 'b@x']);
      expect(docMock.commandCalls(BatchGetCommand)[1].args[0].input.RequestItems?.bindings.Keys).toEqual([{ pk: 'AOR#b@x', sk: 'AOR' }]);
      expect(store.stats()).toMatchObject({ reads: 2, itemsRead: 2 });
    });

    it('ERR-5: keys still unprocessed after the last attempt give StoreUnavailableError', async () => {
      // Prepare
      docMock.on(BatchGetCommand).resolves({ Responses: { bindings: [] }, UnprocessedKeys: { bindings: { Keys: [{ pk: 'AOR#a@x', sk: 'AOR' }] } } });
      const store = newStore();

      // Act
      const getMany = store.getMany(['a@x']);

      // Assess
      await expect(getMany).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(docMock.commandCalls(BatchGetCommand)).toHaveLength(5);
    });
  });

  describe('Method: findDue', () => {
    it('queries the due index of one shard and pages until the limit', async () => {
      // Prepare
      docMock
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ pk: 'AOR#a@x', sk: 'AOR' }], LastEvaluatedKey: { pk: 'AOR#a@x', sk: 'AOR', dueShard: '3', dueAtMs: 1 } })
        .resolvesOnce({ Items: [{ pk: 'AOR#b@x', sk: 'AOR' }] });
      const store = newStore();

      // Act
      const due = await store.findDue(3, 1_000, 5);

      // Assess
      expect(due).toEqual(['a@x', 'b@x']);
      const [first, second] = docMock.commandCalls(QueryCommand).map((c) => c.args[0].input);
      expect(first).toMatchObject({ IndexName: 'due-index', ExpressionAttributeValues: { ':shard': '3', ':nowMs': 1_000 }, Limit: 5 });
      expect(second).toMatchObject({ Limit: 4, ExclusiveStartKey: { pk: 'AOR#a@x', sk: 'AOR', dueShard: '3', dueAtMs: 1 } });
    });
  });

  describe('Method: delete', () => {
    it('ERR-5: throttling on delete becomes StoreUnavailableError, not a conflict', async () => {
      // Prepare
      docMock.on(DeleteCommand).rejects(throttled());
      const store = newStore();

      // Act
      const del = store.delete(AOR, 3);

      // Assess
      await expect(del).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(store.stats().conflicts).toBe(0);
    });
  });
});
