/**
 * Load, decide, commit: the `register` and `register-reply` decisions around the pure core
 * (`decideRegister`, `applyUpstreamReply`) and the binding store.
 *
 * @remarks
 * - GEN-5: a commit is one conditional put on the version read; on {@link VersionConflictError} the
 *   decision is taken again on the fresh record, up to `maxAttempts` times.
 * - GEN-7 / ERR-5: nothing is answered or relayed before its record is committed; a store failure
 *   answers 503 + Retry-After and commits nothing.
 * - FWD-4: contact ids a decision uses for the first time are claimed in the store's id index before the
 *   record is committed, so a lookup by contact id (LKP-2) never misses a committed binding. Claims of a
 *   decision that then loses its commit expire with their ttl.
 */
import type { MidRegistrarConfig } from '../core/config';
import type { RegisterDecision, RegisterReplyDecision, RegisterReplyRequest, RegisterRequest } from '../core/contract';
import type { AorRecord } from '../core/model';
import type { IdGenerator } from '../core/random';
import { aorOfRequest, decideRegister, storeFailureResponse } from '../core/register/decide-register';
import { applyUpstreamReply, type ReplyEvent } from '../core/reply/apply-upstream-reply';
import { nextDueAtMs } from '../core/timed-work/next-due';
import type { BindingStore } from '../store/binding-store';
import { ContactIdTakenError, StoreError, VersionConflictError } from '../store/errors';
import { recordTtlEpochSec } from './record-ttl';

/** What the services run on. */
export interface RegisterServiceDeps {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  ids: IdGenerator;
  /** Decisions per message before giving up on conflicts (then 503). @default 5 */
  maxAttempts?: number;
}

/** How a service call went, for logs and metrics. */
export interface ServiceReport {
  /** Version conflicts (and contact-id collisions) that made it decide again. */
  conflicts: number;
  /** The store error that turned the answer into 503, if any. */
  storeError?: StoreError;
}

/** Result of {@link serveRegister}. */
export interface RegisterServiceResult extends ServiceReport {
  decision: RegisterDecision;
}

/** Result of {@link serveRegisterReply}. */
export interface RegisterReplyServiceResult extends ServiceReport {
  decision: RegisterReplyDecision;
  events: ReplyEvent[];
}

/** Thrown inside the retry loop when a commit lost (GEN-5): decide again on fresh state. */
class RetryDecision extends Error {
  constructor() {
    super('commit lost a race; deciding again');
    this.name = 'RetryDecision';
  }
}

/**
 * Runs `attempt` until it does not throw {@link RetryDecision}; a StoreError ends with `onStoreError`.
 */
async function withRetries<T extends ServiceReport>(
  maxAttempts: number,
  attempt: () => Promise<Omit<T, 'conflicts'>>,
  onStoreError: (err: StoreError) => Omit<T, 'conflicts'>,
): Promise<T> {
  let conflicts = 0;
  for (;;) {
    try {
      return { ...(await attempt()), conflicts } as T;
    } catch (err) {
      if (err instanceof RetryDecision && conflicts + 1 < maxAttempts) {
        conflicts += 1;
        continue;
      }
      if (err instanceof RetryDecision) {
        // GEN-5 could not settle within maxAttempts: answer as a store failure (503), commit nothing.
        return { ...onStoreError(new StoreError(`still conflicting after ${maxAttempts} attempts`, { cause: err })), conflicts: conflicts + 1 } as T;
      }
      if (err instanceof StoreError) return { ...onStoreError(err), conflicts } as T;
      throw err;
    }
  }
}

/** Commits `record` on `expectedVersion`; a lost race or id collision becomes {@link RetryDecision}. */
async function commit(deps: RegisterServiceDeps, record: AorRecord, expectedVersion: number, nowMs: number, newIds: readonly string[]): Promise<void> {
  const ttlEpochSec = recordTtlEpochSec(deps.config, record, nowMs);
  try {
    for (const id of newIds) await deps.store.claimContactId(id, record.aor, ttlEpochSec);
    await deps.store.put(record, expectedVersion, { dueAtMs: nextDueAtMs(deps.config, record), ttlEpochSec });
  } catch (err) {
    if (err instanceof VersionConflictError || err instanceof ContactIdTakenError) throw new RetryDecision();
    throw err;
  }
}

/**
 * Decides one REGISTER and commits what it changed (DESIGN §3 `register`).
 *
 * @throws only programmer errors; store failures become a 503 decision
 */
export async function serveRegister(deps: RegisterServiceDeps, request: RegisterRequest): Promise<RegisterServiceResult> {
  const nowMs = request.receivedAtMs;
  const aor = aorOfRequest(deps.config, request);
  if (aor === undefined) {
    // REG-2: no AoR, no record: the core answers 400 without state.
    return { decision: decideRegister(deps.config, request, undefined, nowMs, deps.ids).decision, conflicts: 0 };
  }
  return withRetries<RegisterServiceResult>(
    deps.maxAttempts ?? 5,
    async () => {
      const stored = await deps.store.get(aor);
      const outcome = decideRegister(deps.config, request, stored?.record, nowMs, deps.ids);
      if (outcome.nextRecord !== undefined) await commit(deps, outcome.nextRecord, stored?.version ?? 0, nowMs, outcome.newContactIds);
      return { decision: outcome.decision };
    },
    (storeError) => ({ decision: { kind: 'reject', response: storeFailureResponse(deps.config, deps.ids) }, storeError }),
  );
}

/**
 * Applies the end of a relay and commits it (DESIGN §3 `register-reply`, SPEC RPL).
 *
 * A failed commit of a 2xx answers 503 (RPL-10; the pending relay stays and DRG-7 takes it over). A
 * failed commit of a non-2xx or a relay failure keeps its answer: the non-2xx was already forwarded
 * (RPL-1), and the 504/503 of RPL-9 stands.
 */
export async function serveRegisterReply(deps: RegisterServiceDeps, request: RegisterReplyRequest): Promise<RegisterReplyServiceResult> {
  const outcome = request.outcome;
  const nowMs = outcome.kind === 'final' ? outcome.receivedAtMs : outcome.atMs;
  return withRetries<RegisterReplyServiceResult>(
    deps.maxAttempts ?? 5,
    async () => {
      const stored = await deps.store.get(request.context.aor);
      const result = applyUpstreamReply(deps.config, request.context, outcome, stored?.record, nowMs, deps.ids);
      if (result.nextRecord !== undefined) await commit(deps, result.nextRecord, stored?.version ?? 0, nowMs, []);
      return { decision: result.decision, events: result.events };
    },
    (storeError) => {
      const committing2xx = outcome.kind === 'final' && outcome.status >= 200 && outcome.status < 300;
      // Without a readable record the core still gives the answer of a non-2xx (forward unchanged) or of
      // RPL-9 (504/503); only a 2xx needed the commit (RPL-10: 503).
      const decision: RegisterReplyDecision = committing2xx
        ? { kind: 'respond', response: storeFailureResponse(deps.config, deps.ids) }
        : applyUpstreamReply(deps.config, request.context, outcome, undefined, nowMs, deps.ids).decision;
      return { decision, events: [], storeError };
    },
  );
}
