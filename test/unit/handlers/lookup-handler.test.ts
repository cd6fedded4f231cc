import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTRACT_VERSION, type LookupRequest } from '../../../functions/core/contract';
import type { AorRecord } from '../../../functions/core/model';
import { DecisionBatchEventError, type HandlerLogger, type HandlerMetrics } from '../../../functions/handlers/decision-batch-handler';
import { createLookupHandler } from '../../../functions/handlers/lookup-handler';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { StoreUnavailableError } from '../../../functions/store/errors';
import { AOR, makeBinding, makeConfig, makeFlow, makeRecord, makeUpstream } from '../core/timed-work/record-fixtures';

const UPSTREAM_SOURCE = makeFlow({ remoteAddress: '198.51.100.9', remotePort: 5060 });

function lookupRequest(requestUri: string): LookupRequest {
  return { version: CONTRACT_VERSION, method: 'INVITE', requestUri, hasToTag: false, flow: UPSTREAM_SOURCE, receivedAtMs: 1_000 };
}

function fakeMetrics(): HandlerMetrics & { added: Record<string, number>; published: number } {
  const fake = {
    added: {} as Record<string, number>,
    published: 0,
    addMetric(name: string, _unit: unknown, value: number) {
      fake.added[name] = (fake.added[name] ?? 0) + value;
      return fake as unknown as ReturnType<HandlerMetrics['addMetric']>;
    },
    publishStoredMetrics() {
      fake.published += 1;
    },
  };
  return fake as unknown as HandlerMetrics & { added: Record<string, number>; published: number };
}

describe('Function: createLookupHandler', () => {
  let dataDir: string;
  let store: EmbeddedBindingStore<AorRecord>;
  let logger: HandlerLogger & { error: jest.Mock };

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookup-handler-'));
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 4 });
    const record = makeRecord({ bindings: [makeBinding({ contactId: '11', upstream: makeUpstream() })] });
    await store.put(record, 0, { ttlEpochSec: 4_000_000_000 });
    await store.claimContactId('11', AOR, 4_000_000_000);
    logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn() } as unknown as HandlerLogger & { error: jest.Mock };
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('LKP-3: a known contact id of a valid binding gives its target, counted as a hit', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = createLookupHandler({ config: makeConfig(), store, logger, metrics });

    // Act
    const result = await handler({ version: CONTRACT_VERSION, operation: 'lookup', requests: [lookupRequest('sip:alice@203.0.113.10:5060;ctid=11')] });

    // Assess
    expect(result.version).toBe(CONTRACT_VERSION);
    expect(result.decisions).toHaveLength(1);
    expect(result.decisions[0]).toMatchObject({ kind: 'targets', groups: [[{ requestUri: 'sip:alice@192.0.2.7:5062', aor: AOR, contactId: '11' }]] });
    expect(metrics.added).toEqual({ lookup_hit: 1, store_reads: 2 });
    expect(metrics.published).toBe(1);
  });

  it('ERR-5: each message is answered independently; a store failure gives that message 503 with Retry-After', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = createLookupHandler({ config: makeConfig({ retryAfter: 45 }), store, logger, metrics });
    const realFind = store.findAorByContactId.bind(store);
    jest.spyOn(store, 'findAorByContactId').mockImplementation((id) => (id === '33' ? Promise.reject(new StoreUnavailableError('throttled')) : realFind(id)));

    // Act
    const result = await handler({
      version: CONTRACT_VERSION,
      operation: 'lookup',
      requests: [
        lookupRequest('sip:alice@203.0.113.10:5060;ctid=11'),
        lookupRequest('sip:alice@203.0.113.10:5060;ctid=22'),
        lookupRequest('sip:alice@203.0.113.10:5060;ctid=33'),
      ],
    });

    // Assess
    const [hit, unknown, failed] = result.decisions;
    expect(hit.kind).toBe('targets');
    expect(unknown).toMatchObject({ kind: 'respond', response: { status: 404 } });
    expect(failed).toMatchObject({
      kind: 'respond',
      response: { status: 503, headers: [['P-Registrar-Error', 'Service unavailable'], ['Retry-After', '45']] },
    });
    expect(metrics.added).toEqual({ lookup_hit: 1, lookup_miss: 1, store_errors: 1, store_reads: 3 });
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('ERR-5: a store read that could outlast the invocation\'s store time is not started; the lookup gets 503 with Retry-After at once', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = createLookupHandler({ config: makeConfig({ retryAfter: 45 }), store, logger, metrics, storeBudgetMs: 1_000, storeCallBoundMs: 1_800, nowMs: () => 0 });
    const find = jest.spyOn(store, 'findAorByContactId');

    // Act
    const result = await handler({ version: CONTRACT_VERSION, operation: 'lookup', requests: [lookupRequest('sip:alice@203.0.113.10:5060;ctid=11')] });

    // Assess
    expect(result.decisions[0]).toMatchObject({ kind: 'respond', response: { status: 503, headers: [['P-Registrar-Error', 'Service unavailable'], ['Retry-After', '45']] } });
    expect(find).not.toHaveBeenCalled();
    expect(metrics.added).toEqual({ store_errors: 1 });
  });

  it('ERR-3: an unexpected failure of one decision gives that message 500, not the batch', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = createLookupHandler({ config: makeConfig(), store, logger, metrics });
    jest.spyOn(store, 'get').mockRejectedValueOnce(new TypeError('boom'));

    // Act
    const result = await handler({
      version: CONTRACT_VERSION,
      operation: 'lookup',
      requests: [lookupRequest('sip:alice@203.0.113.10:5060;ctid=11'), lookupRequest('sip:alice@203.0.113.10:5060;ctid=11')],
    });

    // Assess
    expect(result.decisions.map((d) => (d.kind === 'respond' ? d.response.status : d.kind)).sort()).toEqual([500, 'targets']);
    expect(metrics.added).toEqual({ lookup_hit: 1, decision_errors: 1, store_reads: 3 });
  });

  it('rejects an event of another operation or contract version as a whole', async () => {
    // Prepare
    const handler = createLookupHandler({ config: makeConfig(), store, logger, metrics: fakeMetrics() });

    // Act
    const wrongOperation = handler({ version: CONTRACT_VERSION, operation: 'register', requests: [] });
    const wrongVersion = handler({ version: 99, operation: 'lookup', requests: [] });

    // Assess
    await expect(wrongOperation).rejects.toBeInstanceOf(DecisionBatchEventError);
    await expect(wrongVersion).rejects.toBeInstanceOf(DecisionBatchEventError);
  });
});
