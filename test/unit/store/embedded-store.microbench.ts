/**
 * Micro-benchmark of the embedded binding store (not a jest test; speed is measured here, never in
 * timed unit tests). Run:
 * `npx esbuild --bundle --platform=node --target=node20 test/unit/store/embedded-store.microbench.ts --outfile=/tmp/store-microbench.js && NODE_ENV=production node /tmp/store-microbench.js`
 *
 * 1. CPU per get+put pair: 100,000 read-modify-write cycles of a realistic 1-binding mode 1 record
 *    (~0.9 KB as JSON) over 10,000 AoRs, 100 AoRs per event-loop turn (so journal writes are grouped
 *    as under load), minus the same loop without store calls.
 * 2. Longest event-loop pause while the journal is compacted with 10,000 and 100,000 records, with
 *    an idle loop and while puts keep arriving (50 per turn): the largest gap between turns, and
 *    monitorEventLoopDelay's max; then the same for the same time without compaction (the pauses
 *    garbage collection and other processes cause anyway).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { AorRecord } from '../../../functions/core/model';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';

const NOW_MS = Date.now();
const TTL_EPOCH_SEC = Math.ceil(NOW_MS / 1000) + 8 * 24 * 3600;

/** A mode 1 AoR record with one binding and its upstream registration. */
function makeRecord(i: number): AorRecord {
  const user = `user${i}`;
  return {
    aor: `sip:${user}@example.com`,
    bindings: [
      {
        contactId: `c${i.toString(36)}x9f2k3`,
        contactUri: `<sip:${user}@198.51.100.${i % 250}:5060;transport=udp;ob>`,
        requestedExpiresSec: 300,
        expiresAtMs: NOW_MS + 300_000,
        callId: `a84b4c76e66710-${i}@198.51.100.${i % 250}`,
        cseq: 1,
        updatedAtMs: NOW_MS,
        createdAtMs: NOW_MS,
        flow: { transport: 'udp', remoteAddress: `198.51.100.${i % 250}`, remotePort: 5060, localAddress: '127.0.0.1', localPort: 5060, gatewayId: 'gw-local' },
        path: [],
        userAgent: 'Example SIP Phone 4.2.1 (linux)',
        upstream: {
          requestUri: 'sip:registrar.example.com',
          fromUri: `<sip:${user}@example.com>;tag=8f3e${i}`,
          toUri: `<sip:${user}@example.com>`,
          callId: `mid-${i}-7f3a9c2e51b04d6a@127.0.0.1`,
          highestCseq: 1,
          contactUri: `<sip:c${i.toString(36)}x9f2k3@127.0.0.1:5060>`,
          relayedContactUri: `<sip:c${i.toString(36)}x9f2k3@127.0.0.1:5060;mrid=1>`,
          requestedExpiresSec: 3600,
          grantedExpiresSec: 3600,
          sentAtMs: NOW_MS,
          lapsesAtMs: NOW_MS + 3_600_000,
        },
      },
    ],
    pendingRelays: [],
    deregisterWork: [],
  };
}

/** What the core does on an absorbed refresh: a new record sharing unchanged parts. */
function refresh(record: AorRecord, nowMs: number): AorRecord {
  const b = record.bindings[0];
  return { ...record, bindings: [{ ...b, cseq: b.cseq + 1, expiresAtMs: nowMs + 300_000, updatedAtMs: nowMs }] };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'store-microbench-'));
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function fill(store: EmbeddedBindingStore<AorRecord>, count: number, versions: number[], batch = 1000): Promise<void> {
  for (let start = 0; start < count; start += batch) {
    const puts: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + batch); i += 1) {
      const record = makeRecord(i);
      puts.push(store.put(record, 0, { dueAtMs: NOW_MS + 300_000, ttlEpochSec: TTL_EPOCH_SEC }).then((v) => void (versions[i] = v)));
    }
    await Promise.all(puts);
  }
}

async function getPutCycles(): Promise<void> {
  const aors = 10_000;
  const cycles = 100_000;
  const perTurn = 100;
  const dataDir = tempDir();
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 16, compactMinBytes: 1e12 });
  const versions: number[] = [];
  await fill(store, aors, versions);
  const local = Array.from({ length: aors }, (_, i) => makeRecord(i));

  async function run(withStore: boolean): Promise<number> {
    const start = cpuMicros();
    for (let done = 0; done < cycles; done += perTurn) {
      const ops: Promise<void>[] = [];
      for (let k = 0; k < perTurn; k += 1) {
        const i = (done + k) % aors;
        const nowMs = NOW_MS + done;
        if (withStore) {
          ops.push(
            (async () => {
              const stored = (await store.get(makeAor(i)))!;
              const next = refresh(stored.record, nowMs);
              versions[i] = await store.put(next, stored.version, { dueAtMs: NOW_MS + 300_000, ttlEpochSec: TTL_EPOCH_SEC });
            })(),
          );
        } else {
          ops.push(
            (async () => {
              const record = await Promise.resolve(local[i]);
              local[i] = refresh(record, nowMs);
              await new Promise<void>((resolve) => setImmediate(resolve));
            })(),
          );
        }
      }
      await Promise.all(ops);
    }
    return cpuMicros() - start;
  }

  await run(true); // warm-up
  const baseline = await run(false);
  const total = await run(true);
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  console.log(`get+put: ${((total - baseline) / cycles).toFixed(2)} µs CPU per pair (loop with store ${(total / cycles).toFixed(2)} µs, without ${(baseline / cycles).toFixed(2)} µs), ${cycles} cycles`);
}

function makeAor(i: number): string {
  return `sip:user${i}@example.com`;
}

async function compactionPause(records: number, putsPerTurn: number): Promise<void> {
  const dataDir = tempDir();
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 16, compactMinBytes: 1e12 });
  const versions: number[] = [];
  await fill(store, records, versions);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let maxGapMs = 0;
  let last = performance.now();
  let running = true;
  let putsDuring = 0;
  // Puts keep arriving during compaction, `putsPerTurn` per turn, like refreshes under load (0: idle loop).
  const ticker = (async () => {
    let i = 0;
    while (running) {
      const ops: Promise<void>[] = [new Promise<void>((resolve) => setImmediate(resolve))];
      for (let k = 0; k < putsPerTurn; k += 1, i += 1) {
        const idx = i % records;
        const record = refresh(makeRecord(idx), NOW_MS + i);
        ops.push(store.put(record, versions[idx], { dueAtMs: NOW_MS + 300_000, ttlEpochSec: TTL_EPOCH_SEC }).then((v) => void (versions[idx] = v)));
      }
      await Promise.all(ops);
      putsDuring += putsPerTurn;
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }
  })();
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 20));
  histogram.reset();
  maxGapMs = 0;
  last = performance.now();
  const startMs = performance.now();
  await store.compact();
  const wallMs = performance.now() - startMs;
  // One more turn, and a timer tick for the histogram, so a pause at the very end is counted.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const compactionGapMs = maxGapMs;
  const compactionHistogramMaxMs = histogram.max / 1e6;
  // Control: the same load for the same time without compaction (garbage collection, other processes).
  histogram.reset();
  maxGapMs = 0;
  last = performance.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(wallMs, 200)));
  const controlGapMs = maxGapMs;
  // Let the histogram's timer observe the turn that held the loop (a synchronous compaction).
  await new Promise((resolve) => setTimeout(resolve, 20));
  histogram.disable();
  running = false;
  await ticker;
  store.close();
  const reopened = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 16 });
  const count = reopened.recordCount;
  reopened.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  console.log(
    `compaction of ${records} records, ${putsPerTurn} puts per turn: longest pause ${compactionGapMs.toFixed(1)} ms (monitorEventLoopDelay max ${compactionHistogramMaxMs.toFixed(1)} ms), ` +
      `compaction wall time ${wallMs.toFixed(0)} ms, ${putsDuring} puts acknowledged in all, ${count} records after reopen; ` +
      `same load without compaction: longest pause ${controlGapMs.toFixed(1)} ms (monitorEventLoopDelay max ${(histogram.max / 1e6).toFixed(1)} ms)`,
  );
}

async function main(): Promise<void> {
  await getPutCycles();
  for (const records of [10_000, 100_000]) {
    await compactionPause(records, 0);
    await compactionPause(records, 50);
  }
}

void main();
