import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTRACT_VERSION, type RegisterDecision, type RelayContext } from '../../../functions/core/contract';
import { CORE_METRICS } from '../../../functions/core/core-metrics';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator, seededRandomBytes } from '../../../functions/core/random';
import { DecisionBatchEventError, type HandlerLogger, type HandlerMetrics } from '../../../functions/handlers/decision-batch-handler';
import { createRegisterHandler } from '../../../functions/handlers/register-handler';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { StoreUnavailableError } from '../../../functions/store/errors';
import { AOR, makeConfig } from '../core/timed-work/record-fixtures';
import { asRemoteStore } from '../../support/remote-store-view';
import { registerRequest, replyOk } from './register-fixtures';

type FakeMetrics = HandlerMetrics & { added: Record<string, number>; published: number };

function fakeMetrics(): FakeMetrics {
  const fake = {
    added: {} as Record<string, number>,
    published: 0,
    addMetric(name: string, _unit: unknown, value: number) {
      fake.added[name] = (fake.added[name] ?? 0) + value;
      return fake;
    },
    publishStoredMetrics() {
      fake.published += 1;
    },
  };
  return fake as unknown as FakeMetrics;
}

function relayed(decision: unknown): { context: RelayContext; contacts: string[] } {
  const d = decision as RegisterDecision;
  if (d.kind !== 'forward') throw new Error(`expected forward, got ${d.kind}`);
  return { context: d.context, contacts: d.relay.addHeaders.filter(([name]) => name === 'Contact').map(([, value]) => value) };
}

describe('Function: createRegisterHandler', () => {
  let dataDir: string;
  let store: EmbeddedBindingStore<AorRecord>;
  let logger: HandlerLogger & { error: jest.Mock };

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-handler-'));
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 4 });
    logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn() } as unknown as HandlerLogger & { error: jest.Mock };
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function newHandler(metrics: HandlerMetrics) {
    // The Lambda handler runs on DynamoDB, which has no in-process read.
    return createRegisterHandler({ config: makeConfig(), store: asRemoteStore(store), ids: createIdGenerator(seededRandomBytes(3)), logger, metrics });
  }

  it('GEN-7: relays only after committing the pending relay and claiming its contact id; the 2xx commits the binding; a refresh is absorbed', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = newHandler(metrics);

    // Act
    const first = await handler({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest()] });
    const { context, contacts } = relayed(first.decisions[0]);
    const pending = await store.get(AOR);
    const claimedBy = await store.findAorByContactId(/ctid=(\d+)/.exec(contacts[0])![1]);
    const reply = await handler({ version: CONTRACT_VERSION, operation: 'register-reply', requests: [replyOk(context, contacts)] });
    const refresh = await handler({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest({ cseq: 2, receivedAtMs: 30_000 })] });

    // Assess
    expect(pending?.record.pendingRelays).toHaveLength(1);
    expect(claimedBy).toBe(AOR);
    expect(reply.decisions[0]).toMatchObject({ kind: 'rewrite', addHeaders: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=60']] });
    expect(refresh.decisions[0]).toMatchObject({ kind: 'absorb', response: { status: 200 } });
    expect((await store.get(AOR))?.record.bindings).toMatchObject([{ contactUri: 'sip:alice@192.0.2.7:5062', cseq: 2 }]);
    expect(metrics.added).toMatchObject({ register_forwarded: 1, register_absorbed: 1 });
    expect(metrics.published).toBe(3);
  });

  it('DESIGN §8: an absorbed REGISTER costs one store read and one store write', async () => {
    // Prepare
    const handler = newHandler(fakeMetrics());
    const { context, contacts } = relayed((await handler({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest()] })).decisions[0]);
    await handler({ version: CONTRACT_VERSION, operation: 'register-reply', requests: [replyOk(context, contacts)] });
    const metrics = fakeMetrics();

    // Act
    await newHandler(metrics)({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest({ cseq: 2, receivedAtMs: 30_000 })] });

    // Assess
    expect(metrics.added).toEqual({ register_absorbed: 1, store_reads: 1, store_writes: 1 });
  });

  it('GEN-5: REGISTERs of one AoR in one batch all take effect; conflicts are re-decided and counted', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const requests = Array.from({ length: 4 }, (_, i) => registerRequest({ contacts: [`<sip:alice@192.0.2.${10 + i}:5062>;expires=60`], callId: `call-${i}` }));

    // Act
    const result = await newHandler(metrics)({ version: CONTRACT_VERSION, operation: 'register', requests });

    // Assess
    expect(result.decisions.map((d) => d.kind)).toEqual(['forward', 'forward', 'forward', 'forward']);
    const relayedUris = (await store.get(AOR))!.record.pendingRelays.flatMap((r) => r.contacts.map((c) => c.contactUri)).sort();
    expect(relayedUris).toEqual(requests.map((_, i) => `sip:alice@192.0.2.${10 + i}:5062`).sort());
    expect(metrics.added.version_conflicts).toBeGreaterThan(0);
  });

  it('ERR-5: answers each REGISTER of a batch independently, in order, and counts forwarded / rejected / store errors', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const realGet = store.get.bind(store);
    jest.spyOn(store, 'get').mockImplementation((aor) => (aor === 'carol@example.com' ? Promise.reject(new StoreUnavailableError('throttled')) : realGet(aor)));

    // Act
    const result = await newHandler(metrics)({
      version: CONTRACT_VERSION,
      operation: 'register',
      requests: [
        registerRequest(),
        registerRequest({ to: '<sip:example.com>', from: '<sip:example.com>;tag=x' }),
        registerRequest({ to: '<sip:carol@example.com>', from: '<sip:carol@example.com>;tag=c' }),
      ],
    });

    // Assess
    const [forwarded, badAor, storeDown] = result.decisions;
    expect(forwarded.kind).toBe('forward');
    expect(badAor).toMatchObject({ kind: 'reject', response: { status: 400 } });
    expect(storeDown).toMatchObject({ kind: 'reject', response: { status: 503, headers: expect.arrayContaining([['Retry-After', '30']]) } });
    expect(metrics.added).toMatchObject({ register_forwarded: 1, register_rejected: 2, store_errors: 1 });
    expect(metrics.published).toBe(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(await realGet('carol@example.com')).toBeUndefined();
  });

  it('RPL-10: a 2xx whose commit fails answers 503; the pending relay stays for DRG-7', async () => {
    // Prepare
    const handler = newHandler(fakeMetrics());
    const { context, contacts } = relayed((await handler({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest()] })).decisions[0]);
    jest.spyOn(store, 'put').mockRejectedValueOnce(new StoreUnavailableError('throttled'));

    // Act
    const result = await handler({ version: CONTRACT_VERSION, operation: 'register-reply', requests: [replyOk(context, contacts)] });

    // Assess
    expect(result.decisions[0]).toMatchObject({ kind: 'respond', response: { status: 503 } });
    expect((await store.get(AOR))?.record.pendingRelays).toHaveLength(1);
  });

  it('rejects a lookup batch as a whole: it belongs to the lookup function', async () => {
    // Act
    const wrong = newHandler(fakeMetrics())({ version: CONTRACT_VERSION, operation: 'lookup', requests: [] });

    // Assess
    await expect(wrong).rejects.toBeInstanceOf(DecisionBatchEventError);
  });

  it('RPL-5: a 2xx missing the relayed contact is logged and counted as upstream_contact_missing in the invocation metrics', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = newHandler(metrics);
    const first = await handler({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest()] });
    const { context } = relayed(first.decisions[0]);

    // Act
    await handler({ version: CONTRACT_VERSION, operation: 'register-reply', requests: [replyOk(context, [])] });

    // Assess
    expect(metrics.added[CORE_METRICS.upstreamContactMissing]).toBe(1);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('RPL-5'), expect.objectContaining({ kind: CORE_METRICS.upstreamContactMissing, aor: AOR }));
  });

  it('ERR-5: store calls that could outlast the invocation\'s store time are not started; the REGISTER gets the function\'s own 503, counted as a store error', async () => {
    // Prepare
    const metrics = fakeMetrics();
    const handler = createRegisterHandler({
      config: makeConfig(),
      store,
      ids: createIdGenerator(seededRandomBytes(3)),
      logger,
      metrics,
      storeBudgetMs: 1_000,
      storeCallBoundMs: 1_800,
      nowMs: () => 0,
    });

    // Act
    const result = await handler({ version: CONTRACT_VERSION, operation: 'register', requests: [registerRequest()] });

    // Assess
    expect(result.decisions[0]).toMatchObject({ kind: 'reject', response: { status: 503 } });
    expect(metrics.added.store_errors).toBe(1);
    expect(metrics.added.store_reads).toBeUndefined();
  });
});


describe('Module: functions/handlers/register (Lambda entry)', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('builds its handler at cold start from the environment', async () => {
    // Prepare
    process.env.BINDINGS_TABLE_NAME = 'bindings';
    process.env.MID_REGISTRAR_CONFIG = JSON.stringify({ upstreamUri: 'sip:registrar.example.net', advertisedUri: 'sip:203.0.113.10:5060' });
    process.env.AWS_REGION = 'us-east-1';
    let entry: { handler: (event: unknown) => Promise<{ decisions: unknown[] }> } | undefined;

    // Act
    jest.isolateModules(() => {
      entry = jest.requireActual('../../../functions/handlers/register');
    });
    const empty = await entry!.handler({ version: CONTRACT_VERSION, operation: 'register', requests: [] });

    // Assess
    expect(empty).toEqual({ version: CONTRACT_VERSION, decisions: [] });
  });
});
