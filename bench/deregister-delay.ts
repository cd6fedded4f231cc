/**
 * De-REGISTER delay benchmark (issue 5): 1,000 devices register through the local mid-registrar (the
 * `npm start` composition: gateway, in-process decisions, embedded store, sweep on a 1 s ticker) and
 * stop at once. Reports, per binding, how long after its local expiry its De-REGISTER reached upstream
 * (p50/p99/max) and how many never arrived. Target with the default settings: p99 ≤ 5 s, zero missed.
 *
 * Upstream is a minimal UDP registrar in this process (200 OK echoing each contact with its expires),
 * so the numbers measure the mid-registrar alone. Exit code 1 when the target is missed.
 *
 * Run: `node scripts/build.mjs && node dist/bench-deregister.js [--devices 1000] [--expires 10]`.
 */
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../functions/core/config';
import type { AorRecord } from '../functions/core/model';
import { createLocalSweep } from '../functions/handlers/sweep-local';
import { EmbeddedBindingStore } from '../functions/store/embedded-binding-store';
import { InProcessDecisionInvoker } from '../sip-gateway/src/decision/in-process-decision-invoker';
import { createLocalDecisionServices } from '../sip-gateway/src/decision/local-decision-services';
import { Gateway } from '../sip-gateway/src/gateway';
import { createLogger } from '../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../sip-gateway/src/observability/metrics-registry';
import { createRequest, createResponse, parseMessage } from '../sip-gateway/src/sip/message';

const TARGET_P99_MS = 5_000;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : Number.parseInt(process.argv[index + 1] ?? '', 10);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A registrar that answers every REGISTER 200 and notes when each `expires=0` contact arrived. */
async function startUpstream(): Promise<{ port: number; deregisteredAtMs: Map<string, number>; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const deregisteredAtMs = new Map<string, number>();
  socket.on('message', (datagram, source) => {
    const request = parseMessage(datagram);
    if (!request.isRequest) return;
    const contact = request.header('Contact') ?? '';
    const uri = /^<([^>]*)>/.exec(contact)?.[1] ?? '';
    if (/;expires=0\s*$/.test(contact) && !deregisteredAtMs.has(uri)) deregisteredAtMs.set(uri, Date.now());
    const response = createResponse(request, 200, 'OK', { toTag: 'up', headers: contact === '' ? [] : [['Contact', contact]] });
    socket.send(response.serialize(), source.port, source.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, deregisteredAtMs, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** Registers `count` devices from one socket, at most `window` transactions at once; resolves with the AoRs answered 200. */
async function registerDevices(midPort: number, count: number, expiresSec: number, window: number): Promise<string[]> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const pending = new Map<string, (status: number) => void>();
  socket.on('message', (datagram) => {
    const response = parseMessage(datagram);
    if (response.status >= 200) pending.get(response.callId())?.(response.status);
  });
  const registered: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next;
      next += 1;
      const callId = `${randomBytes(6).toString('hex')}@bench`;
      const bytes = createRequest({
        method: 'REGISTER',
        requestUri: 'sip:example.com',
        headers: [
          ['Via', `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`],
          ['From', `<sip:dev${i}@example.com>;tag=${i}`],
          ['To', `<sip:dev${i}@example.com>`],
          ['Call-ID', callId],
          ['CSeq', '1 REGISTER'],
          ['Contact', `<sip:dev${i}@127.0.0.1:${port}>`],
          ['Expires', String(expiresSec)],
          ['Max-Forwards', '70'],
        ],
      }).serialize();
      const status = await new Promise<number>((resolve) => {
        // RFC 3261 §17.1.2.2 Timer E, simplified: resend every 500 ms, give up after 8 s.
        const resend = setInterval(() => socket.send(bytes, midPort, '127.0.0.1'), 500);
        const giveUp = setTimeout(() => pending.get(callId)?.(0), 8_000);
        pending.set(callId, (answer) => {
          clearInterval(resend);
          clearTimeout(giveUp);
          pending.delete(callId);
          resolve(answer);
        });
        socket.send(bytes, midPort, '127.0.0.1');
      });
      if (status === 200) registered.push(`dev${i}@example.com`);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return registered;
}

async function main(): Promise<number> {
  const devices = argument('devices', 1_000);
  const expiresSec = argument('expires', 10);
  const upstream = await startUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-deregister-'));
  const midSocket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => midSocket.bind(0, '127.0.0.1', resolve));
  const midPort = midSocket.address().port;
  await new Promise<void>((resolve) => midSocket.close(() => resolve()));
  // Default settings (deregisterBound 30 s, upstreamTimeout 10 s, 1 s ticker) but the addresses.
  const config = parseConfig({
    upstreamUri: 'sip:example.com',
    upstreamOutboundProxy: `127.0.0.1:${upstream.port}`,
    listen: [`udp:127.0.0.1:${midPort}`],
    dataDir,
    tokenSecret: randomBytes(16).toString('hex'),
  });
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const metrics = new MetricsRegistry({ namespace: 'bench', write: () => undefined });
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: config.shardCount });
  const invoker = new InProcessDecisionInvoker({ services: createLocalDecisionServices(config, store), retryAfterMs: config.retryAfterMs, logger, metrics });
  const gateway = await Gateway.start({ config, invoker, gatewayId: 'bench', logger, metrics });
  // As `npm start` wires it: the sweep sends over the gateway's own sockets (FWD-9).
  const sweep = await createLocalSweep({ config, store, logger, metrics, channel: gateway.upstreamChannel() });
  let running = false;
  const ticker = setInterval(() => {
    if (running) return;
    running = true;
    void sweep.timedWork(Date.now()).finally(() => (running = false));
  }, 1_000);

  const startedMs = Date.now();
  const registered = await registerDevices(midPort, devices, expiresSec, 50);
  const registeredMs = Date.now() - startedMs;
  // The devices stop now. Each binding's local expiry and upstream contact, as committed.
  const expiries = new Map<string, number>();
  for (const { record } of (await store.getMany(registered)).values()) {
    for (const binding of record.bindings) if (binding.upstream !== undefined) expiries.set(binding.upstream.contactUri, binding.expiresAtMs);
  }
  const lastExpiryMs = Math.max(...expiries.values());
  const deadlineMs = lastExpiryMs + config.deregisterBoundMs + config.upstreamTimeoutMs;
  while (Date.now() < deadlineMs && [...expiries.keys()].some((uri) => !upstream.deregisteredAtMs.has(uri))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const delaysMs = [...expiries].flatMap(([uri, expiresAtMs]) => {
    const atMs = upstream.deregisteredAtMs.get(uri);
    return atMs === undefined ? [] : [atMs - expiresAtMs];
  });
  delaysMs.sort((a, b) => a - b);
  const missed = expiries.size - delaysMs.length;
  const early = delaysMs.filter((ms) => ms < 0).length;
  const p99 = percentile(delaysMs, 99);
  const lines = [
    `deregister-delay: ${devices} devices (${registered.length} registered in ${registeredMs} ms), expires ${expiresSec} s, default settings, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}`,
    `  delay after local expiry: p50 ${percentile(delaysMs, 50)} ms, p99 ${p99} ms, max ${delaysMs[delaysMs.length - 1] ?? NaN} ms`,
    `  missed ${missed}, before expiry ${early} (DRG-4), bound ${config.deregisterBoundMs} ms`,
    `  target p99 ≤ ${TARGET_P99_MS} ms and zero missed: ${p99 <= TARGET_P99_MS && missed === 0 && early === 0 ? 'MET' : 'MISSED'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  clearInterval(ticker);
  while (running) await new Promise((resolve) => setTimeout(resolve, 50));
  await sweep.close();
  await gateway.close();
  store.close();
  await upstream.close();
  rmSync(dataDir, { recursive: true, force: true });
  return p99 <= TARGET_P99_MS && missed === 0 && early === 0 && registered.length === devices ? 0 : 1;
}

void main().then((code) => process.exit(code));
