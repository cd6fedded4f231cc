/**
 * The sweep (DESIGN §6, SPEC §8): for one due-index shard, find the AoRs whose timed work is due,
 * plan with the pure core, claim by a conditional put, send, and commit each outcome.
 *
 * @remarks
 * - No scan: AoRs come from the store's due-time index (`findDue`), earliest first, a page at a time.
 * - Claim (idempotency): the planned REGISTERs are sent only after the planned record committed on the
 *   version read. Two sweeps of one shard at once both plan the same send; one commit wins, the other
 *   gets {@link VersionConflictError}, re-reads and finds the work claimed (GEN-5): each De-REGISTER
 *   leaves once. A sweep that dies after its claim leaves the claim to expire (`claimUntilMs`), after
 *   which the attempt counts as a timeout and is retried (DRG-6, GEN-1).
 * - Final failures (DRG-6, DRG-9, INV-2) are logged, counted and kept as dead letters in the store.
 * - GEN-3: a record left holding nothing is deleted.
 */
import type { MidRegistrarConfig } from '../core/config';
import type { AorRecord } from '../core/model';
import type { IdGenerator } from '../core/random';
import {
  applyTimedWorkOutcome,
  isRecordDeletable,
  planTimedWork,
  type OutgoingRegister,
  type TimedWorkFailure,
  type TimedWorkOutcome,
  type TimedWorkRecord,
} from '../core/timed-work';
import type { BindingStore, StoredAor } from '../store/binding-store';
import { VersionConflictError } from '../store/errors';
import type { UpstreamSender } from '../upstream/upstream-sender';
import { indexOf } from '../../sip-gateway/src/decision/register-service';

/** Metric names the sweep counts. */
export const SWEEP_METRIC = {
  deregisterSent: 'deregister_sent',
  deregisterFailed: 'deregister_failed',
  refreshSent: 'upstream_refresh_sent',
  refreshFailed: 'upstream_refresh_failed',
  deadLetters: 'dead_letters',
  versionConflicts: 'version_conflicts',
  sweepErrors: 'sweep_errors',
} as const;

/** Where the sweep logs and counts (Powertools in Lambda, pino + the metrics registry locally). */
export interface SweepObserver {
  count(metric: string, by?: number): void;
  log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void;
}

/** What the sweep runs on. */
export interface SweepDeps {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  ids: IdGenerator;
  sender: UpstreamSender;
  /** Wall clock, epoch ms (GEN-2: timed work takes `now` when it executes). */
  nowMs: () => number;
  observer: SweepObserver;
  /** AoRs per `findDue` page. @default 100 */
  pageSize?: number;
  /** AoRs worked on at once. @default 32 */
  concurrency?: number;
  /** Re-reads of one AoR after lost commits before it is left to the next pass. @default 5 */
  maxConflicts?: number;
}

/** What one pass over a shard did. */
export interface SweepPassReport {
  /** AoRs read from the due index. */
  aors: number;
  deregistersSent: number;
  refreshesSent: number;
  /** Final failures (dead letters written). */
  failures: number;
  conflicts: number;
  /** Records deleted (GEN-3). */
  deleted: number;
  /** AoRs left to a later pass after an unexpected error (logged). */
  errors: number;
}

function emptyReport(): SweepPassReport {
  return { aors: 0, deregistersSent: 0, refreshesSent: 0, failures: 0, conflicts: 0, deleted: 0, errors: 0 };
}

/** A lost commit: re-read and decide again (GEN-5). */
class RetryOnFreshState extends Error {
  constructor() {
    super('commit lost a race');
    this.name = 'RetryOnFreshState';
  }
}

/** The sweep of one shard, one pass at a time. */
export class SweepService {
  constructor(private readonly deps: SweepDeps) {}

  /**
   * One pass over `shard`: every AoR due at `nowMs` is planned, claimed, sent and settled. Resolves
   * once every send of the pass has its outcome committed (at most `upstreamTimeout` after the last send).
   */
  async sweepShard(shard: number, nowMs: number): Promise<SweepPassReport> {
    const report = emptyReport();
    const pageSize = this.deps.pageSize ?? 100;
    const done = new Set<string>();
    for (;;) {
      const page = (await this.deps.store.findDue(shard, nowMs, pageSize + done.size)).filter((aor) => !done.has(aor));
      if (page.length === 0) break;
      for (const aor of page) done.add(aor);
      report.aors += page.length;
      await this.forEachConcurrently(page, (aor) => this.sweepAor(aor, report));
      // A short page was the last one; else AoRs handled in this pass may still head the index (claims).
      if (page.length < pageSize) break;
    }
    return report;
  }

  /** Plans, claims, sends and settles the due work of one AoR. Never rejects. */
  async sweepAor(aor: string, report: SweepPassReport): Promise<void> {
    try {
      const sends = await this.withFreshState(aor, report, async (stored) => {
        const nowMs = this.deps.nowMs();
        const plan = planTimedWork(this.deps.config, stored.record, nowMs, { ids: this.deps.ids });
        if (!plan.changed) {
          await this.deleteIfEmpty(stored, nowMs, report);
          return [];
        }
        const version = await this.commit(plan.nextRecord, stored.version, nowMs);
        await this.reportFailures(plan.failures, report);
        if (plan.sends.length === 0) await this.deleteIfEmpty({ record: plan.nextRecord, version }, nowMs, report);
        return plan.sends;
      });
      await Promise.all(sends.map((send) => this.sendAndSettle(aor, send, report)));
    } catch (error) {
      report.errors += 1;
      this.deps.observer.count(SWEEP_METRIC.sweepErrors);
      this.deps.observer.log('error', 'sweep: AoR left to the next pass', { aor, error: String(error) });
    }
  }

  private async sendAndSettle(aor: string, send: OutgoingRegister, report: SweepPassReport): Promise<void> {
    const deregister = send.purpose === 'deregister';
    if (deregister) report.deregistersSent += 1;
    else report.refreshesSent += 1;
    this.deps.observer.count(deregister ? SWEEP_METRIC.deregisterSent : SWEEP_METRIC.refreshSent);
    const outcome: TimedWorkOutcome = await this.deps.sender.send(send);
    if (outcome.kind !== '2xx') {
      this.deps.observer.log('warn', `sweep: ${send.purpose} attempt failed`, { aor, contact: send.contactUri, outcome });
    }
    await this.withFreshState(aor, report, async (stored) => {
      const nowMs = this.deps.nowMs();
      const result = applyTimedWorkOutcome(this.deps.config, stored.record, send.workId, send.attemptId, outcome, nowMs);
      if (!result.changed) return [];
      const version = await this.commit(result.nextRecord, stored.version, nowMs);
      await this.reportFailures(result.failures, report);
      await this.deleteIfEmpty({ record: result.nextRecord, version }, nowMs, report);
      return [];
    });
    // A challenge answer (DRG-11) is due at once: plan it now rather than at the next pass.
    if (outcome.kind === 'failure' && (outcome.status === 401 || outcome.status === 407) && this.deps.config.upstreamAuth !== undefined) {
      await this.sweepAor(aor, report);
    }
  }

  /**
   * Runs `step` on the stored record until its commit does not lose a race (GEN-5). An absent record
   * has nothing to do.
   */
  private async withFreshState(
    aor: string,
    report: SweepPassReport,
    step: (stored: StoredAor<TimedWorkRecord>) => Promise<OutgoingRegister[]>,
  ): Promise<OutgoingRegister[]> {
    const maxConflicts = this.deps.maxConflicts ?? 5;
    for (let conflicts = 0; ; conflicts += 1) {
      const stored = await this.deps.store.get(aor);
      if (stored === undefined) return [];
      try {
        return await step(stored);
      } catch (error) {
        if (!(error instanceof RetryOnFreshState)) throw error;
        report.conflicts += 1;
        this.deps.observer.count(SWEEP_METRIC.versionConflicts);
        if (conflicts + 1 >= maxConflicts) throw new Error(`still conflicting after ${maxConflicts} attempts`, { cause: error });
      }
    }
  }

  private async commit(record: TimedWorkRecord, expectedVersion: number, nowMs: number): Promise<number> {
    const config = this.deps.config;
    try {
      // The same index (due time, ttl) as the register decisions write, so both agree on when to sweep.
      return await this.deps.store.put(record, expectedVersion, indexOf(config, record, nowMs));
    } catch (error) {
      if (error instanceof VersionConflictError) throw new RetryOnFreshState();
      throw error;
    }
  }

  /** GEN-3: an AoR record is deleted once it holds no binding, open incarnation or timed work. */
  private async deleteIfEmpty(stored: StoredAor<TimedWorkRecord>, nowMs: number, report: SweepPassReport): Promise<void> {
    if (!isRecordDeletable(this.deps.config, stored.record, nowMs)) return;
    try {
      await this.deps.store.delete(stored.record.aor, stored.version);
      report.deleted += 1;
    } catch (error) {
      // A REGISTER committed meanwhile: the record lives on, nothing to delete.
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }

  /** DRG-6, DRG-9, INV-2: a final failure is logged, counted and dead-lettered, never silently forgotten. */
  private async reportFailures(failures: readonly TimedWorkFailure[], report: SweepPassReport): Promise<void> {
    for (const failure of failures) {
      report.failures += 1;
      this.deps.observer.count(failure.metric);
      this.deps.observer.log('error', `sweep: ${failure.kind} failed finally`, {
        aor: failure.aor,
        contact: failure.detail.contactUri,
        attempts: failure.detail.attempts,
        lastFailure: failure.detail.lastFailure,
      });
      await this.deps.store.putDeadLetter({ aor: failure.aor, kind: failure.kind, detail: failure.detail, atMs: failure.atMs });
      this.deps.observer.count(SWEEP_METRIC.deadLetters);
    }
  }

  private async forEachConcurrently(items: readonly string[], work: (item: string) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        await work(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 32, items.length) }, worker));
  }
}
