/**
 * In-process micro-benchmark of the absorbed-REGISTER path (docs/benchmarks.md "What limits it",
 * item 3): gateway CPU and JS heap allocation per absorbed refresh, without SIPp or a second process.
 *
 * The gateway is composed as `sip-gateway/src/cli/local-runtime.ts` composes it (embedded store in a
 * temp dir, local decision services, in-process invoker). Datagrams enter through the transport
 * layer's own UDP receive entry (the function the UDP socket calls), so parsing, Via stamping, the
 * transaction layer, the decision, the store and the response `send` all run; only the kernel's
 * receive is skipped. Responses go to loopback ports nobody listens on, so no receiver shares the
 * process. Devices first register through a relay to an in-process upstream (not measured), then
 * every device refreshes round-robin; each refresh is absorbed (mode 1, M1-3).
 *
 * Run (bundled by esbuild into a temp dir, nothing else touched):
 *   npx esbuild bench/lib/absorb-path.ts --bundle --platform=node --outfile=/tmp/absorb-path.js \
 *     && node --expose-gc --max-semi-space-size=64 /tmp/absorb-path.js [devices] [registers]
 *
 * CPU is `process.cpuUsage()` (user + system) over the measured batches only. Allocation is the JS
 * heap growth (`heapUsed`) across batches in which no garbage collection ran (a large semi-space
 * makes most batches qualify), so it counts every byte allocated, live or not; Buffers outside the
 * heap are not in it. GC counts and pause time come from a `perf_hooks` GC observer.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseConfig } from '../../functions/core/config';
import type { AorRecord } from '../../functions/core/model';
import { EmbeddedBindingStore } from '../../functions/store/embedded-binding-store';
import { InProcessDecisionInvoker } from '../../sip-gateway/src/decision/in-process-decision-invoker';
import { createLocalDecisionServices } from '../../sip-gateway/src/decision/local-decision-services';
import { Gateway } from '../../sip-gateway/src/gateway';
import { createLogger } from '../../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../../sip-gateway/src/observability/metrics-registry';
import type { Flow } from '../../sip-gateway/src/transport/flow';
import { startMinimalResponder } from '../../test/support/minimal-responder';

/** What {@link measureAbsorbPath} reports. */
export interface AbsorbPathResult {
  devices: number;
  registers: number;
  /** `register_absorbed` over the measured phase; must equal `registers`. */
  absorbed: number;
  cpuUsPerRegister: number;
  /** JS heap bytes allocated per REGISTER (from GC-free batches). */
  heapBytesPerRegister: number;
  /** Share of the REGISTERs the allocation figure is based on. */
  allocationSampleShare: number;
  gcCount: number;
  gcMs: number;
  /** Heap still used after a full GC at the end, minus before the phase, per REGISTER (retained transactions). */
  retainedBytesPerRegister: number;
}

/** The entry the UDP endpoint calls for each datagram (private in the transport layer). */
type DatagramEntry = (datagram: Buffer, flow: Flow) => void;

const BATCH = 500;

function registerDatagram(device: number, cseq: number, devicePort: number): Buffer {
  const address = deviceAddress(device);
  return Buffer.from(
    [
      `REGISTER sip:example.com SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${devicePort};branch=z9hG4bK-${device}-${cseq};rport`,
      'Max-Forwards: 70',
      `From: <sip:u${device}@example.com>;tag=f${device}`,
      `To: <sip:u${device}@example.com>`,
      `Call-ID: c${device}@bench`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:u${device}@${address}:${devicePort};transport=udp>;expires=300`,
      'User-Agent: absorb-path-bench',
      `Content-Length: 0`,
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/** One loopback address per device, so the per-source flood limit never applies. */
function deviceAddress(device: number): string {
  return `127.1.${(device >> 8) & 255}.${device & 255}`;
}

async function settled(gateway: Gateway): Promise<void> {
  while (gateway.inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
}

/** Runs the benchmark: `devices` registrations, then `registers` absorbed refreshes. */
export async function measureAbsorbPath(devices: number, registers: number): Promise<AbsorbPathResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'absorb-path-'));
  const upstream = await startMinimalResponder({ listen: ['udp:127.0.0.1:0'] });
  const config = parseConfig({
    mode: 1,
    insertion: 'contact',
    upstreamUri: 'sip:example.com',
    upstreamOutboundProxy: `127.0.0.1:${upstream.udpPort}`,
    outgoingExpires: 3600,
    listen: ['udp:127.0.0.1:0'],
    dataDir: workDir,
    tokenSecret: 'absorb-path-bench',
  });
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir: workDir, shardCount: config.shardCount });
  const logger = createLogger({ level: 'silent', destination: process.stderr });
  const metrics = new MetricsRegistry({ namespace: 'AbsorbPath', write: () => undefined });
  const invoker = new InProcessDecisionInvoker({ services: createLocalDecisionServices(config, store), retryAfterMs: config.retryAfterMs, logger, metrics });
  const gateway = await Gateway.start({ config, invoker, gatewayId: 'absorb-path-bench', logger, metrics });
  // A port nobody listens on: responses are sent (the send system call is measured) and dropped.
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const devicePort = probe.address().port;
  probe.close();
  const transport = (gateway as unknown as { transport: { receiveDatagram: DatagramEntry } }).transport;
  const receive: DatagramEntry = (datagram, flow) => transport.receiveDatagram(datagram, flow);
  const gatewayPort = gateway.listening[0]?.port ?? 0;
  const flowOf = (device: number): Flow => ({ transport: 'udp', localAddress: '127.0.0.1', localPort: gatewayPort, remoteAddress: deviceAddress(device), remotePort: devicePort });
  const counter = (name: string): number => metrics.snapshot().counters[name] ?? 0;
  try {
    for (let first = 0; first < devices; first += BATCH) {
      for (let device = first; device < Math.min(devices, first + BATCH); device += 1) receive(registerDatagram(device, 1, devicePort), flowOf(device));
      await settled(gateway);
    }
    const relayed = counter('register_relayed');
    if (relayed !== devices) throw new Error(`pre-registration: ${relayed} of ${devices} REGISTERs relayed`);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let gcCount = 0;
    let gcMs = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        gcCount += 1;
        gcMs += entry.duration;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const absorbedBefore = counter('register_absorbed');
    let cpuUs = 0;
    let allocatedBytes = 0;
    let allocationRegisters = 0;
    let sent = 0;
    while (sent < registers) {
      const count = Math.min(BATCH, registers - sent);
      const batch: Array<[Buffer, Flow]> = [];
      for (let i = 0; i < count; i += 1) {
        const index = sent + i;
        const device = index % devices;
        batch.push([registerDatagram(device, 2 + Math.floor(index / devices), devicePort), flowOf(device)]);
      }
      // GC entries are delivered asynchronously: let those of the previous batch arrive first.
      await new Promise((resolve) => setImmediate(resolve));
      const gcBefore = gcCount;
      const heap0 = process.memoryUsage().heapUsed;
      const cpu0 = process.cpuUsage();
      for (const [datagram, flow] of batch) receive(datagram, flow);
      await settled(gateway);
      const cpu1 = process.cpuUsage(cpu0);
      const heap1 = process.memoryUsage().heapUsed;
      await new Promise((resolve) => setImmediate(resolve));
      cpuUs += cpu1.user + cpu1.system;
      if (gcCount === gcBefore && heap1 >= heap0) {
        allocatedBytes += heap1 - heap0;
        allocationRegisters += count;
      }
      sent += count;
    }
    observer.disconnect();
    const absorbed = counter('register_absorbed') - absorbedBefore;
    gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    return {
      devices,
      registers,
      absorbed,
      cpuUsPerRegister: cpuUs / registers,
      heapBytesPerRegister: allocationRegisters === 0 ? Number.NaN : allocatedBytes / allocationRegisters,
      allocationSampleShare: allocationRegisters / registers,
      gcCount,
      gcMs,
      retainedBytesPerRegister: (heapAfter - heapBefore) / registers,
    };
  } finally {
    await gateway.close();
    await upstream.close();
    store.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const devices = Number(process.argv[2] ?? 10_000);
  const registers = Number(process.argv[3] ?? 100_000);
  measureAbsorbPath(devices, registers)
    .then((result) => {
      process.stdout.write(
        `absorb-path devices=${result.devices} registers=${result.registers} absorbed=${result.absorbed}\n` +
          `  cpu ${result.cpuUsPerRegister.toFixed(1)} µs/REGISTER\n` +
          `  heap allocated ${Math.round(result.heapBytesPerRegister)} B/REGISTER (from ${(result.allocationSampleShare * 100).toFixed(0)} % of batches without GC)\n` +
          `  gc ${result.gcCount} runs, ${result.gcMs.toFixed(0)} ms (${((result.gcMs * 1000) / result.registers).toFixed(1)} µs/REGISTER)\n` +
          `  retained after full GC ${Math.round(result.retainedBytesPerRegister)} B/REGISTER\n`,
      );
      process.exit(result.absorbed === result.registers ? 0 : 1);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    });
}
