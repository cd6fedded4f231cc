/**
 * The `lookup` decision as a service: key from the request (LKP-1, LKP-2, LKP-10), one store read,
 * targets from the record (LKP-3..5).
 */
import type { MidRegistrarConfig } from '../../../functions/core/config';
import type { LookupDecision, LookupRequest } from '../../../functions/core/contract';
import { resolveLookupKey } from '../../../functions/core/lookup/resolve-lookup-key';
import { resolveTargets, toLookupDecision } from '../../../functions/core/lookup/resolve-targets';
import type { AorRecord } from '../../../functions/core/model';
import type { BindingStore } from '../../../functions/store/binding-store';
import { ensureStoreTime, type StoreTimeBudget } from './store-time-budget';

/**
 * Decides one lookup. A request that is not looked up (in-dialog, CANCEL, ACK, REGISTER) is relayed
 * upstream: the gateway only asks for initial requests, so this is the conservative answer.
 *
 * @param storeBudget bounds the store time (Lambda handler): a read that could outlast it is not started
 * @throws StoreError when the store cannot be read, or not within `storeBudget` (the invoker answers 500 + Retry-After)
 */
export async function decideLookup(
  config: MidRegistrarConfig,
  store: BindingStore<AorRecord>,
  request: LookupRequest,
  toTag: string,
  storeBudget?: StoreTimeBudget,
): Promise<LookupDecision> {
  const key = resolveLookupKey(config, request);
  switch (key.kind) {
    case 'not-lookup':
      return { kind: 'relay-upstream' };
    case 'options-ok':
    case 'reject':
    case 'relay-upstream':
      return toLookupDecision(key, toTag, config.retryAfterMs);
    case 'contact-id': {
      ensureStoreTime(storeBudget);
      const aor = await store.findAorByContactId(key.contactId);
      if (aor !== undefined) ensureStoreTime(storeBudget);
      const record = aor === undefined ? undefined : (await store.get(aor))?.record;
      return toLookupDecision(resolveTargets(config, key, record, request.receivedAtMs), toTag, config.retryAfterMs);
    }
    case 'aor':
    case 'path-token': {
      ensureStoreTime(storeBudget);
      const record = (await store.get(key.aor))?.record;
      return toLookupDecision(resolveTargets(config, key, record, request.receivedAtMs), toTag, config.retryAfterMs);
    }
  }
}
