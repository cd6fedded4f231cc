/**
 * What one REGISTER costs (DESIGN §8): decision invocations, store reads and writes, decision
 * payload bytes, store record bytes and journal bytes, for a relayed first REGISTER and for an
 * absorbed refresh.
 *
 * `npm start` exposes none of these counters, so the probe composes the same parts as the local
 * runtime (sip-gateway/src/cli/local-runtime.ts: embedded store, local decision services, in-process
 * invoker, gateway) inside the benchmark process, wraps the decision services in counters and reads
 * the store's own `stats()`. The ratios do not depend on load, so a short low-rate run measures them.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../functions/core/config';
import type { AorRecord } from '../../functions/core/model';
import { EMBEDDED_FILES, EmbeddedBindingStore } from '../../functions/store/embedded-binding-store';
import { InProcessDecisionInvoker, type DecisionServices } from '../../sip-gateway/src/decision/in-process-decision-invoker';
import { createLocalDecisionServices } from '../../sip-gateway/src/decision/local-decision-services';
import { Gateway } from '../../sip-gateway/src/gateway';
import { createLogger } from '../../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../../sip-gateway/src/observability/metrics-registry';
import { runSippLoad } from './sipp-load';
import { writeInjectionFile, type StormDevice } from './storm-csv';

/** Counters over one phase, divided by the REGISTERs the devices sent in it. */
export interface RegisterCost {
  /** REGISTERs answered 200 to the devices. */
  registers: number;
  /** Decision invocations (register + register-reply) per REGISTER: Lambda invocations when unbatched. */
  decisionsPerRegister: number;
  registerRepliesPerRegister: number;
  storeReadsPerRegister: number;
  storeWritesPerRegister: number;
  /** Decision request plus response JSON per REGISTER (Lambda payload bytes). */
  decisionBytesPerRegister: number;
  /** Journal bytes appended per REGISTER (the embedded store's disk writes). */
  journalBytesPerRegister: number;
  /** REGISTERs that reached upstream per device REGISTER (Kamailio's counter). */
  upstreamPerRegister: number;
  /** The gateway's own `register_absorbed` / `register_decisions`. */
  absorbedShare: number;
}

/** The probe's result. */
export interface CostProbeResult {
  relayed: RegisterCost;
  absorbed: RegisterCost;
  /** Mean JSON size of a stored AoR record with one binding (DynamoDB item size ≈ this). */
  recordBytes: number;
}

/** Options of {@link measureRegisterCost}. */
export interface CostProbeOptions {
  /** Gateway listen address (Kamailio trusts it). */
  host: string;
  port: number;
  upstreamUri: string;
  devices: readonly StormDevice[];
  /** Reads Kamailio's REGISTER counter. */
  upstreamRegisters: () => Promise<number>;
  domain: string;
  expiresSec: number;
  /** Free ports for SIPp: local, control, media. */
  sippPorts: { local: number; control: number; media: number };
  ratePerSec: number;
}

interface Counts {
  register: number;
  registerReply: number;
  bytes: number;
}

/** Runs the probe: first REGISTERs (relayed), then one refresh each (absorbed). */
export async function measureRegisterCost(options: CostProbeOptions): Promise<CostProbeResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'storm-probe-'));
  const dataDir = join(workDir, 'data');
  const config = parseConfig({
    mode: 1,
    insertion: 'contact',
    upstreamUri: options.upstreamUri,
    outgoingExpires: 3600,
    listen: [`udp:${options.host}:${options.port}`],
    dataDir,
    tokenSecret: 'register-storm-probe',
  });
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: config.shardCount });
  const services = createLocalDecisionServices(config, store);
  const counts: Counts = { register: 0, registerReply: 0, bytes: 0 };
  const size = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
  const counted: DecisionServices = {
    register: async (request) => {
      const decision = await services.register(request);
      counts.register += 1;
      counts.bytes += size(request) + size(decision);
      return decision;
    },
    registerReply: async (request) => {
      const decision = await services.registerReply(request);
      counts.registerReply += 1;
      counts.bytes += size(request) + size(decision);
      return decision;
    },
    lookup: (request) => services.lookup(request),
  };
  const logger = createLogger({ level: 'silent', destination: process.stderr });
  const metrics = new MetricsRegistry({ namespace: 'RegisterStormProbe', write: () => undefined });
  const invoker = new InProcessDecisionInvoker({ services: counted, retryAfterMs: config.retryAfterMs, logger, metrics });
  const gateway = await Gateway.start({ config, invoker, gatewayId: 'register-storm-probe', logger, metrics });
  const journalBytes = (): number => statSync(join(dataDir, EMBEDDED_FILES.journal)).size;
  const phase = async (cseq: number): Promise<RegisterCost> => {
    const before = { ...counts, store: store.stats(), journal: journalBytes(), upstream: await options.upstreamRegisters(), metrics: metrics.snapshot().counters };
    const file = join(workDir, `probe-${cseq}.csv`);
    writeInjectionFile(file, options.devices, options.devices.length, cseq);
    const run = await runSippLoad({
      remote: `${options.host}:${options.port}`,
      injectionFile: file,
      localPort: options.sippPorts.local,
      controlPort: options.sippPorts.control,
      mediaPort: options.sippPorts.media,
      calls: options.devices.length,
      ratePerSec: options.ratePerSec,
      domain: options.domain,
      expiresSec: options.expiresSec,
      timeoutMs: Math.ceil((options.devices.length / options.ratePerSec) * 1000) + 10_000,
    });
    if (run.failedCalls > 0 || run.successfulCalls !== options.devices.length) {
      throw new Error(`cost probe: ${run.successfulCalls} of ${options.devices.length} REGISTERs succeeded\n${run.output}`);
    }
    const store1 = store.stats();
    const metrics1 = metrics.snapshot().counters;
    const n = run.successfulCalls;
    const delta = (name: string): number => (metrics1[name] ?? 0) - (before.metrics[name] ?? 0);
    return {
      registers: n,
      decisionsPerRegister: (counts.register - before.register + counts.registerReply - before.registerReply) / n,
      registerRepliesPerRegister: (counts.registerReply - before.registerReply) / n,
      storeReadsPerRegister: (store1.reads - before.store.reads) / n,
      storeWritesPerRegister: (store1.writes - before.store.writes) / n,
      decisionBytesPerRegister: (counts.bytes - before.bytes) / n,
      journalBytesPerRegister: (journalBytes() - before.journal) / n,
      upstreamPerRegister: ((await options.upstreamRegisters()) - before.upstream) / n,
      absorbedShare: delta('register_decisions') > 0 ? delta('register_absorbed') / delta('register_decisions') : 0,
    };
  };
  try {
    const relayed = await phase(1);
    const absorbed = await phase(2);
    let recordBytes = 0;
    for (const device of options.devices) {
      const stored = await store.get(`${device.user}@${options.domain}`);
      recordBytes += stored ? Buffer.byteLength(JSON.stringify(stored.record)) : 0;
    }
    return { relayed, absorbed, recordBytes: recordBytes / options.devices.length };
  } finally {
    await gateway.close();
    store.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
