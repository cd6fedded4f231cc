/**
 * The `register` and `register-reply` decisions as services over a {@link BindingStore}: load the
 * AoR record, decide with the pure core, commit conditionally, and re-decide on a conflict (GEN-5).
 *
 * @remarks
 * Shared by the in-process invoker (local mode) and, so both behave identically (GEN-1), meant for
 * the Lambda register handler too. A store failure answers 503 with nothing committed (ERR-5,
 * RPL-10); the caller turns a thrown error into 500.
 */
import type { MidRegistrarConfig } from '../../../functions/core/config';
import type { RegisterDecision, RegisterReplyDecision, RegisterReplyRequest, RegisterRequest } from '../../../functions/core/contract';
import type { AorRecord } from '../../../functions/core/model';
import type { IdGenerator } from '../../../functions/core/random';
import { type CheckResult, checkRegister } from '../../../functions/core/register/check-register';
import { decideRegister, storeFailureResponse } from '../../../functions/core/register/decide-register';
import { applyUpstreamReply, type ReplyEvent, type ReplyOutcome } from '../../../functions/core/reply/apply-upstream-reply';
import { nextDueAtMs } from '../../../functions/core/timed-work/next-due';
import type { TimedWorkRecord } from '../../../functions/core/timed-work/timed-work-types';
import type { AorIndex, BindingStore, StoredAor } from '../../../functions/store/binding-store';
import { ContactIdTakenError, StoreError, VersionConflictError } from '../../../functions/store/errors';
import { ensureStoreTime, type StoreTimeBudget } from './store-time-budget';

/** Re-decisions after a conflicting write before answering 503 (GEN-5); conflicts need a racing writer each time. */
export const MAX_DECIDE_ATTEMPTS = 8;
/** How long a record outlives its last relevant time before the store may collect it (GC only, DESIGN §4). */
const TTL_GRACE_MS = 7 * 24 * 3600 * 1000;

/** A REGISTER that passed REG-1 steps 3–7. */
type CheckOk = Extract<CheckResult, { ok: true }>;

/** What a register service needs. */
export interface RegisterServiceDeps {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  ids: IdGenerator;
  /**
   * Receives each event of the reply decision that was returned (after its commit; those of attempts lost
   * to a conflict are not reported), to be logged and counted under `event.kind` (CORE_METRICS; RPL-5
   * requires `upstream_contact_missing` to be).
   */
  reportReplyEvent?(event: ReplyEvent): void;
  /** Bounds the decision's store time (the Lambda handlers: under the gateway's decision deadline). */
  storeBudget?: StoreTimeBudget;
}

/** The store index of a record: its next due time and a garbage-collection time past everything in it. */
export function indexOf(config: MidRegistrarConfig, record: AorRecord, nowMs: number): AorIndex {
  const dueAtMs = nextDueAtMs(config, record as TimedWorkRecord);
  let latestMs = Math.max(nowMs, dueAtMs ?? nowMs);
  for (const binding of record.bindings) latestMs = Math.max(latestMs, binding.expiresAtMs, binding.upstream?.lapsesAtMs ?? 0);
  latestMs = Math.max(latestMs, record.incarnation?.upstream?.lapsesAtMs ?? 0);
  const index: AorIndex = { ttlEpochSec: Math.ceil((latestMs + TTL_GRACE_MS) / 1000) };
  if (dueAtMs !== undefined) index.dueAtMs = dueAtMs;
  return index;
}

/**
 * Decides one REGISTER: read, decide, claim new contact ids (FWD-4), commit on the version read.
 *
 * @returns the decision; rejects with an Error other than a StoreError (a bug): the caller answers 500
 */
export function decideRegisterWithStore(deps: RegisterServiceDeps, request: RegisterRequest): Promise<RegisterDecision> {
  const { config, ids } = deps;
  try {
    // Checked once: the check depends on the request alone, and re-decisions after a conflict reuse it.
    const checked = checkRegister(config, request);
    if (!checked.ok) return Promise.resolve(decideRegister(config, request, undefined, request.receivedAtMs, ids, checked).decision);
    return deps.store.getNow === undefined ? decideAndCommit(deps, request, checked) : decideInOneRun(deps, request, checked);
  } catch (error) {
    // A bug thrown in the synchronous part rejects, as it did from an async function.
    return Promise.reject(error);
  }
}

/**
 * An in-process store (`getNow`): read, decide and write in one synchronous run, so no other writer can
 * come between the read and the conditional write (GEN-5 needs no retry), and the absorbed refresh, the
 * gateway's hot path, costs no async frame and no turn for the read (~1 KB and ~1 µs per REGISTER).
 * Contact-id claims (FWD-4) are awaited, so a decision that has new ids takes the general path.
 */
function decideInOneRun(deps: RegisterServiceDeps, request: RegisterRequest, checked: CheckOk): Promise<RegisterDecision> {
  const { config, store, ids } = deps;
  const aor = checked.register.aor;
  let stored: StoredAor<AorRecord> | undefined;
  try {
    ensureStoreTime(deps.storeBudget);
    stored = store.getNow!(aor);
  } catch (error) {
    return Promise.resolve(storeFailed(deps, error));
  }
  // Thrown errors (bugs) reach decideRegisterWithStore's catch and reject.
  const outcome = decideRegister(config, request, stored?.record, request.receivedAtMs, ids, checked);
  if (outcome.nextRecord === undefined) return Promise.resolve(outcome.decision);
  if (outcome.newContactIds.length > 0) return decideAndCommit(deps, request, checked, { stored });
  const decision = outcome.decision;
  let committed: Promise<number>;
  try {
    ensureStoreTime(deps.storeBudget);
    committed = store.put(outcome.nextRecord, stored?.version ?? 0, indexOf(config, outcome.nextRecord, request.receivedAtMs));
  } catch (error) {
    return Promise.resolve(storeFailed(deps, error));
  }
  return committed.then(
    () => decision,
    // A conflict cannot happen in one run; if a store ever reports one, the general path decides afresh.
    (error: unknown) => (error instanceof VersionConflictError ? decideAndCommit(deps, request, checked) : storeFailed(deps, error)),
  );
}

/** ERR-5: a store failure answers 503 with nothing committed; any other error is a bug and is rethrown. */
function storeFailed(deps: RegisterServiceDeps, error: unknown): RegisterDecision {
  if (error instanceof StoreError) return { kind: 'reject', response: storeFailureResponse(deps.config, deps.ids) };
  throw error;
}

/** Read, decide, claim, commit, and on a conflict (GEN-5) or an id collision (FWD-4) decide again on fresh state. */
async function decideAndCommit(
  deps: RegisterServiceDeps,
  request: RegisterRequest,
  checked: CheckOk,
  /** What the caller read already, for the first attempt (one store read per REGISTER, not two). */
  firstRead?: { stored: StoredAor<AorRecord> | undefined },
): Promise<RegisterDecision> {
  const { config, store, ids } = deps;
  const aor = checked.register.aor;
  try {
    for (let attempt = 0; attempt < MAX_DECIDE_ATTEMPTS; attempt += 1) {
      let stored: StoredAor<AorRecord> | undefined;
      if (attempt === 0 && firstRead !== undefined) {
        stored = firstRead.stored;
      } else {
        ensureStoreTime(deps.storeBudget);
        stored = await store.get(aor);
      }
      const outcome = decideRegister(config, request, stored?.record, request.receivedAtMs, ids, checked);
      if (outcome.nextRecord === undefined) return outcome.decision;
      const index = indexOf(config, outcome.nextRecord, request.receivedAtMs);
      try {
        for (const contactId of outcome.newContactIds) {
          ensureStoreTime(deps.storeBudget);
          await store.claimContactId(contactId, aor, index.ttlEpochSec);
        }
        ensureStoreTime(deps.storeBudget);
        await store.put(outcome.nextRecord, stored?.version ?? 0, index);
        return outcome.decision;
      } catch (error) {
        // GEN-5: another writer came first, or a fresh id collided (FWD-4): decide again on fresh state.
        if (error instanceof VersionConflictError || error instanceof ContactIdTakenError) continue;
        throw error;
      }
    }
    return { kind: 'reject', response: storeFailureResponse(config, ids) };
  } catch (error) {
    return storeFailed(deps, error);
  }
}

/**
 * Decides one relay outcome (SPEC §7): read, apply the reply, commit on the version read (RPL-10: a
 * failed commit answers 503).
 */
export async function decideRegisterReplyWithStore(deps: RegisterServiceDeps, request: RegisterReplyRequest): Promise<RegisterReplyDecision> {
  const { config, store, ids } = deps;
  const nowMs = request.outcome.kind === 'final' ? request.outcome.receivedAtMs : request.outcome.atMs;
  try {
    for (let attempt = 0; attempt < MAX_DECIDE_ATTEMPTS; attempt += 1) {
      ensureStoreTime(deps.storeBudget);
      const stored = await store.get(request.context.aor);
      const outcome = applyUpstreamReply(config, request.context, request.outcome, stored?.record, nowMs, ids);
      if (outcome.nextRecord === undefined) return reported(deps, outcome);
      try {
        ensureStoreTime(deps.storeBudget);
        await store.put(outcome.nextRecord, stored?.version ?? 0, indexOf(config, outcome.nextRecord, nowMs));
        return reported(deps, outcome);
      } catch (error) {
        if (error instanceof VersionConflictError) continue;
        throw error;
      }
    }
    return { kind: 'respond', response: storeFailureResponse(config, ids) };
  } catch (error) {
    if (error instanceof StoreError) return { kind: 'respond', response: storeFailureResponse(config, ids) };
    throw error;
  }
}

/** The log message of each reply event, shared by the local services and the Lambda handler. */
export const REPLY_EVENT_MESSAGES: Readonly<Record<ReplyEvent['kind'], string>> = {
  upstream_contact_missing: "upstream's 2xx lacks a contact we relayed: no binding results (RPL-5)",
  upstream_interval_too_brief: 'upstream 423: outgoingExpires likely below its minimum (RPL-1)',
  stale_relay: 'reply for a relay the record no longer holds',
};

/** Hands the outcome's events to the reporter, then gives its decision. */
function reported(deps: RegisterServiceDeps, outcome: ReplyOutcome): RegisterReplyDecision {
  if (deps.reportReplyEvent !== undefined) for (const event of outcome.events) deps.reportReplyEvent(event);
  return outcome.decision;
}
