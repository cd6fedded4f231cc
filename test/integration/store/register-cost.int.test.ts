import { CONTRACT_VERSION, type RegisterDecision } from '../../../functions/core/contract';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator, seededRandomBytes } from '../../../functions/core/random';
import type { HandlerLogger, HandlerMetrics } from '../../../functions/handlers/decision-batch-handler';
import { createRegisterHandler } from '../../../functions/handlers/register-handler';
import { DynamoDbBindingStore } from '../../../functions/store/dynamodb-binding-store';
import { makeConfig } from '../../unit/core/timed-work/record-fixtures';
import { registerRequest, replyOk } from '../../unit/handlers/register-fixtures';
import { startDynalite, type DynaliteHandle } from '../../support/dynalite';

function recordingMetrics(): HandlerMetrics & { added: Record<string, number> } {
  const fake = {
    added: {} as Record<string, number>,
    addMetric(name: string, _unit: unknown, value: number) {
      fake.added[name] = (fake.added[name] ?? 0) + value;
      return fake;
    },
    publishStoredMetrics: () => undefined,
  };
  return fake as unknown as HandlerMetrics & { added: Record<string, number> };
}

const silentLogger = { error: () => undefined, warn: () => undefined, info: () => undefined } as unknown as HandlerLogger;

describe('Cost per REGISTER: register handler over the DynamoDB adapter (dynalite)', () => {
  let db: DynaliteHandle;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    await db.stop();
  });

  it('DESIGN §8: an absorbed mode 1 refresh costs 1 strongly consistent read unit and 1 write unit (record item under 1 KB)', async () => {
    // Prepare: a device registered through a relay and its 2xx.
    const store = new DynamoDbBindingStore<AorRecord>({ client: db.client, tableName: db.tableName, shardCount: 64 });
    const handler = (metrics: HandlerMetrics) => createRegisterHandler({ config: makeConfig(), store, ids: createIdGenerator(seededRandomBytes(11)), logger: silentLogger, metrics });
    const first = await handler(recordingMetrics())({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest()] });
    const relay = first.decisions[0] as RegisterDecision;
    if (relay.kind !== 'forward') throw new Error(`expected a relay, got ${relay.kind}`);
    const contacts = relay.relay.addHeaders.filter(([name]) => name === 'Contact').map(([, value]) => value);
    await handler(recordingMetrics())({ version: CONTRACT_VERSION, operation: 'register-reply', requests: [replyOk(relay.context, contacts)] });
    const metrics = recordingMetrics();

    // Act
    const refresh = await handler(metrics)({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest({ cseq: 2, receivedAtMs: 30_000 })] });

    // Assess
    expect(refresh.decisions[0].kind).toBe('absorb');
    expect(metrics.added).toEqual({
      register_absorbed: 1,
      store_reads: 1,
      store_writes: 1,
      store_read_capacity_units: 1,
      store_write_capacity_units: 1,
    });
  });
});
