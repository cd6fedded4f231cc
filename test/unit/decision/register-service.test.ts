import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../functions/core/config';
import { CONTRACT_VERSION, type RegisterReplyDecision, type RegisterRequest } from '../../../functions/core/contract';
import { CORE_METRICS } from '../../../functions/core/core-metrics';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator } from '../../../functions/core/random';
import type { ReplyEvent } from '../../../functions/core/reply/apply-upstream-reply';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { StoreUnavailableError, VersionConflictError } from '../../../functions/store/errors';
import { asRemoteStore } from '../../support/remote-store-view';
import { decideRegisterReplyWithStore, decideRegisterWithStore, type RegisterServiceDeps } from '../../../sip-gateway/src/decision/register-service';

const config = parseConfig({ mode: 1, upstreamUri: 'sip:registrar.example.net', listen: ['udp:127.0.0.1:5060'], tokenSecret: 's' });
const flow = { transport: 'udp' as const, remoteAddress: '192.0.2.7', remotePort: 5062, localAddress: '127.0.0.1', localPort: 5060, gatewayId: 'gw' };

function register(callId: string): RegisterRequest {
  return {
    version: CONTRACT_VERSION,
    requestUri: 'sip:example.com',
    from: '<sip:alice@example.com>;tag=f1',
    to: '<sip:alice@example.com>',
    contacts: ['<sip:alice@192.0.2.7:5062>'],
    expires: '60',
    callId,
    cseq: 1,
    path: [],
    supported: [],
    hasAuthorization: false,
    flow,
    receivedAtMs: 1_000_000,
  };
}

/** The store's next put fails with a conflict (another writer came first, GEN-5); later puts go through. */
function conflictOnFirstPut(store: EmbeddedBindingStore<AorRecord>): void {
  const put = store.put.bind(store);
  let conflicts = 1;
  jest.spyOn(store, 'put').mockImplementation(async (record, expected, index) => {
    if (conflicts-- > 0) throw new VersionConflictError(record.aor, expected, undefined);
    return put(record, expected, index);
  });
}

describe('Function: decideRegisterWithStore', () => {
  let dataDir: string;
  let store: EmbeddedBindingStore<AorRecord>;
  let counter = 0;
  const ids = createIdGenerator((length) => Uint8Array.from({ length }, () => (counter = (counter * 31 + 7) % 251)));

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'register-service-'));
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 4 });
  });

  afterEach(() => {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('GEN-7: a relay decision is committed (pending relay recorded) before it is returned', async () => {
    // Act
    const decision = await decideRegisterWithStore({ config, store, ids }, register('c1'));

    // Assess
    expect(decision.kind).toBe('forward');
    const stored = await store.get('alice@example.com');
    expect(stored?.record.pendingRelays).toHaveLength(1);
  });

  it('GEN-5: a conflicting commit is decided again on fresh state', async () => {
    // Prepare
    conflictOnFirstPut(store);
    const get = jest.spyOn(store, 'get');

    // Act
    const decision = await decideRegisterWithStore({ config, store: asRemoteStore(store), ids }, register('c1'));

    // Assess
    expect(decision.kind).toBe('forward');
    expect(get).toHaveBeenCalledTimes(2);
    expect((await store.get('alice@example.com'))?.record.pendingRelays).toHaveLength(1);
  });

  it('ERR-5: a store failure gives 503 with Retry-After and nothing committed', async () => {
    // Prepare
    jest.spyOn(store, 'put').mockRejectedValue(new StoreUnavailableError('disk full'));

    // Act
    const decision = await decideRegisterWithStore({ config, store, ids }, register('c1'));

    // Assess
    expect(decision).toMatchObject({ kind: 'reject', response: { status: 503, headers: expect.arrayContaining([['Retry-After', '30']]) } });
    expect(jest.mocked(store.put)).toHaveBeenCalledTimes(1);
    jest.restoreAllMocks();
    expect(await store.get('alice@example.com')).toBeUndefined();
  });

  describe('an in-process store (getNow): read, decide and write in one run', () => {
    /** Registers alice through upstream (relay, then a 200 OK granting 3600 s) and returns the refresh to absorb. */
    async function registered(deps: RegisterServiceDeps): Promise<RegisterRequest> {
      const forward = await decideRegisterWithStore(deps, register('c1'));
      if (forward.kind !== 'forward') throw new Error(`expected forward, got ${forward.kind}`);
      const contacts = forward.relay.addHeaders.filter(([name]) => name === 'Contact').map(([, value]) => value.replace(/;expires=\d+/, ';expires=3600'));
      await decideRegisterReplyWithStore(deps, { version: CONTRACT_VERSION, context: forward.context, outcome: { kind: 'final', status: 200, contacts, receivedAtMs: 1_000_100, sentAtMs: 1_000_050 } });
      return { ...register('c1'), cseq: 2, receivedAtMs: 1_030_000 };
    }

    it('M1-3, GEN-7: an absorbed refresh is read without a turn, committed once, and answered only once its write resolved', async () => {
      // Prepare
      const deps = { config, store, ids };
      const refresh = await registered(deps);
      const get = jest.spyOn(store, 'get');
      const put = jest.spyOn(store, 'put');
      const versionBefore = store.getNow('alice@example.com')!.version;

      // Act
      const decided = decideRegisterWithStore(deps, refresh);
      const committedAtDecision = put.mock.results.length === 1 && store.getNow('alice@example.com')!.version === versionBefore + 1;
      const decision = await decided;

      // Assess: the write was made synchronously, before any turn, and the record moved to the refresh's expiry.
      expect(committedAtDecision).toBe(true);
      expect(decision.kind).toBe('absorb');
      expect(get).not.toHaveBeenCalled();
      expect(put).toHaveBeenCalledTimes(1);
      expect(store.getNow('alice@example.com')!.record.bindings[0]).toMatchObject({ cseq: 2, expiresAtMs: 1_090_000 });
      jest.restoreAllMocks();
    });

    it('GEN-7: a first REGISTER, whose new contact id is claimed on the general path, reads the store once', async () => {
      // Prepare
      store.resetStats();

      // Act
      const decision = await decideRegisterWithStore({ config, store, ids }, register('c1'));

      // Assess
      expect(decision.kind).toBe('forward');
      expect(store.stats()).toMatchObject({ reads: 1 });
      expect(store.getNow('alice@example.com')?.record.pendingRelays).toHaveLength(1);
    });

    it('ERR-5: a failed write of an absorbed refresh answers 503 with Retry-After', async () => {
      // Prepare
      const deps = { config, store, ids };
      const refresh = await registered(deps);
      jest.spyOn(store, 'put').mockRejectedValue(new StoreUnavailableError('disk full'));

      // Act
      const decision = await decideRegisterWithStore(deps, refresh);

      // Assess
      expect(decision).toMatchObject({ kind: 'reject', response: { status: 503, headers: expect.arrayContaining([['Retry-After', '30']]) } });
      jest.restoreAllMocks();
    });

    it('GEN-5: a conflict reported by the write is decided again on fresh state by the general path', async () => {
      // Prepare
      const deps = { config, store, ids };
      const refresh = await registered(deps);
      conflictOnFirstPut(store);
      const get = jest.spyOn(store, 'get');

      // Act
      const decision = await decideRegisterWithStore(deps, refresh);

      // Assess
      expect(decision.kind).toBe('absorb');
      expect(get).toHaveBeenCalledTimes(1);
      expect(store.getNow('alice@example.com')!.record.bindings[0]).toMatchObject({ cseq: 2 });
      jest.restoreAllMocks();
    });

    it('M1-3: a store without getNow (a remote one) decides the same refresh through get and put', async () => {
      // Prepare: the same store seen without its synchronous read, as the DynamoDB adapter is.
      const deps = { config, store: asRemoteStore(store), ids };
      const refresh = await registered(deps);
      const get = jest.spyOn(store, 'get');

      // Act
      const decision = await decideRegisterWithStore(deps, refresh);

      // Assess
      expect(decision.kind).toBe('absorb');
      expect(get).toHaveBeenCalledTimes(1);
      expect(store.getNow('alice@example.com')!.record.bindings[0]).toMatchObject({ cseq: 2, expiresAtMs: 1_090_000 });
      jest.restoreAllMocks();
    });
  });

  describe('reply events', () => {
    /** Relays alice's first REGISTER, then gives upstream's 200 OK without any Contact. */
    async function relayThenReplyWithoutContact(deps: RegisterServiceDeps): Promise<RegisterReplyDecision> {
      const forward = await decideRegisterWithStore(deps, register('c1'));
      if (forward.kind !== 'forward') throw new Error(`expected forward, got ${forward.kind}`);
      return decideRegisterReplyWithStore(deps, {
        version: CONTRACT_VERSION,
        context: forward.context,
        outcome: { kind: 'final', status: 200, contacts: [], receivedAtMs: 1_000_100, sentAtMs: 1_000_050 },
      });
    }

    it('RPL-5: a 2xx missing the relayed contact reports upstream_contact_missing once, with the AoR, and stores no binding', async () => {
      // Prepare
      const events: ReplyEvent[] = [];

      // Act
      await relayThenReplyWithoutContact({ config, store, ids, reportReplyEvent: (event) => events.push(event) });

      // Assess
      expect(events).toEqual([expect.objectContaining({ kind: CORE_METRICS.upstreamContactMissing, aor: 'alice@example.com' })]);
      expect((await store.get('alice@example.com'))?.record.bindings ?? []).toHaveLength(0);
    });

    it('RPL-5, GEN-5: an attempt lost to a conflicting write reports nothing; only the committed decision reports its events', async () => {
      // Prepare
      const events: ReplyEvent[] = [];
      const deps: RegisterServiceDeps = { config, store, ids, reportReplyEvent: (event) => events.push(event) };
      const forward = await decideRegisterWithStore(deps, register('c1'));
      if (forward.kind !== 'forward') throw new Error(`expected forward, got ${forward.kind}`);
      conflictOnFirstPut(store);

      // Act
      await decideRegisterReplyWithStore(deps, {
        version: CONTRACT_VERSION,
        context: forward.context,
        outcome: { kind: 'final', status: 200, contacts: [], receivedAtMs: 1_000_100, sentAtMs: 1_000_050 },
      });

      // Assess
      expect(jest.mocked(store.put)).toHaveBeenCalledTimes(2);
      expect(events.map((event) => event.kind)).toEqual([CORE_METRICS.upstreamContactMissing]);
      jest.restoreAllMocks();
    });
  });

  describe('store time budget', () => {
    it('ERR-5: a store call that could outlast the decision\'s budget is not started; the REGISTER is answered 503 before the deadline', async () => {
      // Prepare
      let nowMs = 0;
      const get = store.get.bind(store);
      jest.spyOn(store, 'get').mockImplementation(async (aor) => {
        nowMs += 1_500; // a slow read that still succeeds
        return get(aor);
      });
      const put = jest.spyOn(store, 'put');
      const storeBudget = { deadlineMs: 2_000, callBoundMs: 1_800, nowMs: () => nowMs };

      // Act
      // The budget bounds the Lambda handlers' calls to DynamoDB, which has no in-process read.
      const decision = await decideRegisterWithStore({ config, store: asRemoteStore(store), ids, storeBudget }, register('c1'));

      // Assess
      expect(decision).toMatchObject({ kind: 'reject', response: { status: 503, headers: expect.arrayContaining([['Retry-After', '30']]) } });
      expect(put).not.toHaveBeenCalled();
      expect(nowMs).toBeLessThanOrEqual(storeBudget.deadlineMs);
      jest.restoreAllMocks();
    });

    it('RPL-10: a reply whose commit could outlast the budget answers 503 without reading the store', async () => {
      // Prepare
      const forward = await decideRegisterWithStore({ config, store, ids }, register('c1'));
      if (forward.kind !== 'forward') throw new Error(`expected forward, got ${forward.kind}`);
      const get = jest.spyOn(store, 'get');
      const storeBudget = { deadlineMs: 1_000, callBoundMs: 1_800, nowMs: () => 0 };

      // Act
      const decision = await decideRegisterReplyWithStore(
        { config, store, ids, storeBudget },
        { version: CONTRACT_VERSION, context: forward.context, outcome: { kind: 'final', status: 200, contacts: [], receivedAtMs: 1_000_100, sentAtMs: 1_000_050 } },
      );

      // Assess
      expect(decision).toMatchObject({ kind: 'respond', response: { status: 503 } });
      expect(get).not.toHaveBeenCalled();
      jest.restoreAllMocks();
    });

    it('GEN-7: within the budget the decision is taken and committed as without one', async () => {
      // Prepare
      const storeBudget = { deadlineMs: 2_000, callBoundMs: 1_800, nowMs: () => 0 };

      // Act
      const decision = await decideRegisterWithStore({ config, store, ids, storeBudget }, register('c1'));

      // Assess
      expect(decision.kind).toBe('forward');
      expect((await store.get('alice@example.com'))?.record.pendingRelays).toHaveLength(1);
    });
  });
});

