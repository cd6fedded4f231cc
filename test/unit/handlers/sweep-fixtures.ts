/**
 * Shared pieces of the sweep tests: a store in a temp directory, a scripted upstream, a recording
 * observer and records with due timed work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MidRegistrarConfig } from '../../../functions/core/config';
import type { AorRecord } from '../../../functions/core/model';
import type { OutgoingRegister, TimedWorkOutcome } from '../../../functions/core/timed-work';
import type { BindingStore } from '../../../functions/store/binding-store';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import type { SweepObserver } from '../../../functions/handlers/sweep-service';
import type { UpstreamSender } from '../../../functions/upstream/upstream-sender';
import { indexOf } from '../../../sip-gateway/src/decision/register-service';

/** An embedded store in a fresh temp directory. */
export function openTempStore(shardCount: number): { store: EmbeddedBindingStore<AorRecord>; dataDir: string; close(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'sweep-'));
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount });
  return {
    store,
    dataDir,
    close() {
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Writes `record` as the register decisions would (same due index and ttl). */
export async function seed(store: BindingStore<AorRecord>, config: MidRegistrarConfig, record: AorRecord, nowMs: number): Promise<void> {
  const existing = await store.get(record.aor);
  await store.put(record, existing?.version ?? 0, indexOf(config, record, nowMs));
}

/** An upstream answering each REGISTER with the next scripted outcome (default 2xx), recording what it got. */
export class ScriptedUpstream implements UpstreamSender {
  readonly sent: OutgoingRegister[] = [];
  private readonly script: TimedWorkOutcome[] = [];

  /** Queues outcomes for the next sends. */
  answer(...outcomes: TimedWorkOutcome[]): this {
    this.script.push(...outcomes);
    return this;
  }

  async send(register: OutgoingRegister): Promise<TimedWorkOutcome> {
    this.sent.push(register);
    await Promise.resolve();
    return this.script.shift() ?? { kind: '2xx', grantedExpiresSec: register.expiresSec };
  }
}

/** Counts and log lines, for assertions. */
export class RecordingObserver implements SweepObserver {
  readonly counts = new Map<string, number>();
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];

  count(metric: string, by = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + by);
  }

  log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
    this.lines.push({ level, message, fields });
  }
}

/** The value of header `name` of a planned REGISTER. */
export function headerOf(send: OutgoingRegister, name: string): string | undefined {
  return send.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}
