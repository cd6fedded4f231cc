import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RegisterDecision, RelayContext } from '../../../functions/core/contract';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator, seededRandomBytes } from '../../../functions/core/random';
import { serveRegister, serveRegisterReply, type RegisterServiceDeps } from '../../../functions/handlers/register-service';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { StoreUnavailableError, VersionConflictError } from '../../../functions/store/errors';
import { AOR, makeConfig } from '../core/timed-work/record-fixtures';
import { registerRequest, replyOk } from './register-fixtures';

function relayed(decision: RegisterDecision): { context: RelayContext; contacts: string[] } {
  if (decision.kind !== 'forward') throw new Error(`expected forward, got ${decision.kind}`);
  return { context: decision.context, contacts: decision.relay.addHeaders.filter(([name]) => name === 'Contact').map(([, value]) => value) };
}

describe('Function: serveRegister / serveRegisterReply', () => {
  let dataDir: string;
  let store: EmbeddedBindingStore<AorRecord>;
  let deps: RegisterServiceDeps;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-service-'));
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 4 });
    deps = { config: makeConfig(), store, ids: createIdGenerator(seededRandomBytes(7)) };
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('GEN-7: a relay is committed with its contact id claimed before it is sent; its 2xx commits the binding; the next REGISTER is absorbed', async () => {
    // Act
    const first = await serveRegister(deps, registerRequest());
    const { context, contacts } = relayed(first.decision);
    const pending = await store.get(AOR);
    const contactId = /ctid=(\d+)/.exec(contacts[0])![1];
    const claimedBy = await store.findAorByContactId(contactId);
    const reply = await serveRegisterReply(deps, replyOk(context, contacts));
    const refresh = await serveRegister(deps, registerRequest({ cseq: 2, receivedAtMs: 30_000 }));

    // Assess
    expect(pending?.record.pendingRelays).toHaveLength(1);
    expect(claimedBy).toBe(AOR);
    expect(reply.decision).toMatchObject({ kind: 'rewrite', addHeaders: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=60']] });
    expect(refresh.decision).toMatchObject({ kind: 'absorb', response: { status: 200 } });
    const stored = await store.get(AOR);
    expect(stored?.record.bindings).toHaveLength(1);
    expect(stored?.record.bindings[0]).toMatchObject({ contactId, cseq: 2, expiresAtMs: 90_000 });
    expect(stored?.record.pendingRelays).toEqual([]);
  });

  it('GEN-5: concurrent REGISTERs of one AoR all take effect: conflicts are re-decided, no relay is lost', async () => {
    // Prepare
    const requests = Array.from({ length: 5 }, (_, i) =>
      registerRequest({ contacts: [`<sip:alice@192.0.2.${10 + i}:5062>;expires=60`], callId: `call-${i}` }),
    );

    // Act
    const results = await Promise.all(requests.map((r) => serveRegister({ ...deps, maxAttempts: 20 }, r)));

    // Assess
    expect(results.every((r) => r.decision.kind === 'forward')).toBe(true);
    expect(results.reduce((sum, r) => sum + r.conflicts, 0)).toBeGreaterThan(0);
    const relayedUris = (await store.get(AOR))!.record.pendingRelays.flatMap((r) => r.contacts.map((c) => c.contactUri)).sort();
    expect(relayedUris).toEqual(requests.map((_, i) => `sip:alice@192.0.2.${10 + i}:5062`).sort());
  });

  it('ERR-5: a store failure on read answers 503 with Retry-After and commits nothing', async () => {
    // Prepare
    jest.spyOn(store, 'get').mockRejectedValueOnce(new StoreUnavailableError('throttled'));

    // Act
    const result = await serveRegister(deps, registerRequest());

    // Assess
    expect(result.decision).toMatchObject({ kind: 'reject', response: { status: 503, headers: expect.arrayContaining([['Retry-After', '30']]) } });
    expect(result.storeError).toBeInstanceOf(StoreUnavailableError);
    expect(store.recordCount).toBe(0);
  });

  it('ERR-5: a store failure on commit answers 503 and leaves no record: the REGISTER is not relayed', async () => {
    // Prepare
    jest.spyOn(store, 'put').mockRejectedValueOnce(new StoreUnavailableError('timeout'));

    // Act
    const result = await serveRegister(deps, registerRequest());

    // Assess
    expect(result.decision).toMatchObject({ kind: 'reject', response: { status: 503 } });
    expect(await store.get(AOR)).toBeUndefined();
  });

  it('GEN-5: a commit that keeps losing gives up after maxAttempts with 503, never an unconfirmed answer', async () => {
    // Prepare
    const put = jest.spyOn(store, 'put').mockImplementation((record) => Promise.reject(new VersionConflictError(record.aor, 0, 1)));

    // Act
    const result = await serveRegister({ ...deps, maxAttempts: 3 }, registerRequest());

    // Assess
    expect(put).toHaveBeenCalledTimes(3);
    expect(result.conflicts).toBe(3);
    expect(result.decision).toMatchObject({ kind: 'reject', response: { status: 503 } });
  });

  it('RPL-10: a 2xx whose commit fails answers 503; the pending relay stays for DRG-7', async () => {
    // Prepare
    const { context, contacts } = relayed((await serveRegister(deps, registerRequest())).decision);
    jest.spyOn(store, 'put').mockRejectedValueOnce(new StoreUnavailableError('throttled'));

    // Act
    const result = await serveRegisterReply(deps, replyOk(context, contacts));

    // Assess
    expect(result.decision).toMatchObject({ kind: 'respond', response: { status: 503 } });
    expect((await store.get(AOR))?.record.pendingRelays).toHaveLength(1);
  });

  it('RPL-1: a non-2xx whose release cannot be committed is still forwarded unchanged', async () => {
    // Prepare
    const { context } = relayed((await serveRegister(deps, registerRequest())).decision);
    jest.spyOn(store, 'get').mockRejectedValueOnce(new StoreUnavailableError('throttled'));

    // Act
    const result = await serveRegisterReply(deps, {
      version: context.version,
      context,
      outcome: { kind: 'final', status: 401, contacts: [], receivedAtMs: 1_100, sentAtMs: 1_050 },
    });

    // Assess
    expect(result.decision).toEqual({ kind: 'forward-unchanged' });
    expect(result.storeError).toBeInstanceOf(StoreUnavailableError);
  });
});
