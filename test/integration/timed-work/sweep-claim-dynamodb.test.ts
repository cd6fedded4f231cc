import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ATTR, aorPartitionKey } from '../../../functions/store/table-schema';
import type { AorRecord } from '../../../functions/core/model';
import { shardOf } from '../../../functions/store/binding-store';
import { DynamoDbBindingStore } from '../../../functions/store/dynamodb-binding-store';
import { SweepService } from '../../../functions/handlers/sweep-service';
import { testBinding, testConfig, testIds, testRecord, upstreamRegistration } from '../../support/core-builders';
import { startDynalite, type DynaliteHandle } from '../../support/dynalite';
import { headerOf, RecordingObserver, ScriptedUpstream, seed } from '../../unit/handlers/sweep-fixtures';

const SHARDS = 4;
const SHARD = 2;

/** `count` AoRs of shard {@link SHARD}, each with one binding expiring at 60 s under U = 3600 s. */
function expiringRecords(count: number): AorRecord[] {
  const records: AorRecord[] = [];
  for (let i = 0; records.length < count; i += 1) {
    const aor = `user${i}@example.com`;
    if (shardOf(aor, SHARDS) !== SHARD) continue;
    const contactId = String(1000 + i);
    const contactUri = `sip:user${i}@203.0.113.10:5060;ctid=${contactId}`;
    records.push(
      testRecord({
        aor,
        bindings: [
          testBinding({
            contactId,
            upstream: upstreamRegistration({ fromUri: `sip:${aor}`, toUri: `sip:${aor}`, callId: `call-${i}`, contactUri, relayedContactUri: contactUri }),
          }),
        ],
      }),
    );
  }
  return records;
}

/** Records the DynamoDB command names sent through `client` (the store's document client shares its middleware). */
function recordCommands(client: DynamoDBClient): string[] {
  const names: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize' },
  );
  return names;
}

/** Dead-letter items of `aor` in the table. */
async function deadLetterItems(db: DynaliteHandle, aor: string): Promise<unknown[]> {
  const out = await db.client.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :dlq)',
      ExpressionAttributeNames: { '#pk': ATTR.partitionKey, '#sk': ATTR.sortKey },
      ExpressionAttributeValues: { ':pk': { S: aorPartitionKey(aor) }, ':dlq': { S: 'DLQ#' } },
    }),
  );
  return (out.Items ?? []).map((item) => JSON.parse(item[ATTR.document]?.S ?? 'null'));
}

describe('sweep on DynamoDB (dynalite)', () => {
  let db: DynaliteHandle;

  beforeAll(async () => {
    db = await startDynalite('sweep-bindings');
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('GEN-5, DRG-4: two sweeps of one shard at once send each De-REGISTER exactly once, found through the due index without a scan', async () => {
    // Prepare
    const config = testConfig({ shardCount: SHARDS });
    const commands = recordCommands(db.client);
    const store = new DynamoDbBindingStore<AorRecord>({ client: db.client, tableName: db.tableName, shardCount: SHARDS });
    const records = expiringRecords(12);
    for (const record of records) await seed(store, config, record, 0);
    const upstream = new ScriptedUpstream();
    const sweeps = [7, 8].map(
      (seedValue) =>
        new SweepService({ config, store, ids: testIds(seedValue), sender: upstream, nowMs: () => 61_000, observer: new RecordingObserver(), pageSize: 5, concurrency: 4 }),
    );
    commands.length = 0;

    // Act
    const reports = await Promise.all(sweeps.map((sweep) => sweep.sweepShard(SHARD, 61_000)));

    // Assess
    const contacts = upstream.sent.map((send) => headerOf(send, 'Contact'));
    expect(new Set(contacts).size).toBe(records.length);
    expect(contacts).toHaveLength(records.length);
    expect(reports[0].deregistersSent + reports[1].deregistersSent).toBe(records.length);
    // The sweeps really raced: losers of the conditional put re-read and found the work claimed.
    expect(reports[0].conflicts + reports[1].conflicts).toBeGreaterThan(0);
    for (const record of records) expect(await store.get(record.aor)).toBeUndefined();
    expect(commands).toContain('QueryCommand');
    expect(commands).not.toContain('ScanCommand');
  }, 30_000);

  it('DRG-6: a De-REGISTER that failed finally leaves a dead letter item in the table', async () => {
    // Prepare
    const config = testConfig({ shardCount: SHARDS, retryMaxAttempts: 1 });
    const store = new DynamoDbBindingStore<AorRecord>({ client: db.client, tableName: db.tableName, shardCount: SHARDS });
    const [record] = expiringRecords(1);
    await seed(store, config, record!, 0);
    const upstream = new ScriptedUpstream().answer({ kind: 'failure', status: 500 });
    const sweep = new SweepService({ config, store, ids: testIds(), sender: upstream, nowMs: () => 61_000, observer: new RecordingObserver() });

    // Act
    const report = await sweep.sweepShard(SHARD, 61_000);

    // Assess
    expect(report.failures).toBe(1);
    expect(await deadLetterItems(db, record!.aor)).toEqual([
      expect.objectContaining({ aor: record!.aor, kind: 'deregister', detail: expect.objectContaining({ attempts: 1, lastFailure: '500' }) }),
    ]);
    expect(await store.get(record!.aor)).toBeUndefined();
  }, 30_000);
});
