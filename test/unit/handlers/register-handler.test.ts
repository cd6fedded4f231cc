import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTRACT_VERSION } from '../../../functions/core/contract';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator, seededRandomBytes } from '../../../functions/core/random';
import { DecisionBatchEventError, type HandlerLogger, type HandlerMetrics } from '../../../functions/handlers/decision-batch-handler';
import { createRegisterHandler } from '../../../functions/handlers/register-handler';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { StoreUnavailableError } from '../../../functions/store/errors';
import { makeConfig } from '../core/timed-work/record-fixtures';
import { registerRequest } from './register-fixtures';

function fakeMetrics(): HandlerMetrics & { added: Record<string, number>; published: number } {
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
  return fake as unknown as HandlerMetrics & { added: Record<string, number>; published: number };
}

describe('Function: createRegisterHandler', () => {
  let dataDir: string;
  let store: EmbeddedBindingStore<AorRecord>;
  let logger: HandlerLogger & { error: jest.Mock; warn: jest.Mock };

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-handler-'));
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 4 });
    logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn() } as unknown as HandlerLogger & { error: jest.Mock; warn: jest.Mock };
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function newHandler(metrics: HandlerMetrics) {
    return createRegisterHandler({ config: makeConfig(), store, ids: createIdGenerator(seededRandomBytes(3)), logger, metrics });
  }

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
    expect(storeDown).toMatchObject({ kind: 'reject', response: { status: 503 } });
    expect(metrics.added).toEqual({ register_forwarded: 1, register_rejected: 2, store_errors: 1 });
    expect(metrics.published).toBe(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('answers register-reply batches and counts the core events (stale relay)', async () => {
    // Prepare
    const metrics = fakeMetrics();

    // Act
    const result = await newHandler(metrics)({
      version: CONTRACT_VERSION,
      operation: 'register-reply',
      requests: [
        {
          version: CONTRACT_VERSION,
          context: { version: CONTRACT_VERSION, aor: 'nobody@example.com', relayId: 'gone', mode: 1 },
          outcome: { kind: 'final', status: 200, contacts: [], receivedAtMs: 2_000, sentAtMs: 1_900 },
        },
      ],
    });

    // Assess
    expect(result.decisions).toHaveLength(1);
    expect(result.decisions[0]).toMatchObject({ kind: 'respond', response: { status: 504 } });
    expect(metrics.added).toEqual({ stale_relay: 1 });
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('rejects a lookup batch as a whole: it belongs to the lookup function', async () => {
    // Act
    const wrong = newHandler(fakeMetrics())({ version: CONTRACT_VERSION, operation: 'lookup', requests: [] });

    // Assess
    await expect(wrong).rejects.toBeInstanceOf(DecisionBatchEventError);
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
