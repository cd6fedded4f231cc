/**
 * The local mid-registrar with its sweep, as `npm start` composes them (gateway + in-process decisions
 * + embedded store + the sweep on a 1 s ticker, sending over the gateway's own sockets, FWD-9), between
 * test devices and Kamailio, with a recording UDP forwarder on the upstream hop.
 */
import { parseConfig, type MidRegistrarConfig } from '../../../functions/core/config';
import { createLocalSweep, type LocalSweep } from '../../../functions/handlers/sweep-local';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { startLocalGateway, type LocalGateway } from '../gateway/local-gateway';
import { startUdpForwarder, type UdpForwarder } from './udp-forwarder';

/** Log lines and counts of the sweep. */
export interface SweepRecorder {
  lines: Array<{ level: string; message: string; fields: object }>;
  counts: Map<string, number>;
}

/** Everything a timed-work integration test drives. */
export interface TimedWorkSetup {
  config: MidRegistrarConfig;
  midPort: number;
  kamailio: KamailioInstance;
  forwarder: UdpForwarder;
  mid: LocalGateway;
  sweep: LocalSweep;
  recorder: SweepRecorder;
  /** Restarts Kamailio on the same port after `downMs` (its in-memory location table starts empty). */
  stopKamailioFor(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts Kamailio, the forwarder, the gateway and the sweep ticker with `configKeys` (CFG-1 JSON keys). */
export async function startTimedWork(configKeys: Record<string, unknown>, tickIntervalMs = 1_000): Promise<TimedWorkSetup> {
  // Our own REGISTERs carry no credentials (DRG-11): upstream trusts the mid-registrar's address.
  let kamailio = await startKamailio({ trustedSources: ['127.0.0.1'] });
  const forwarder = await startUdpForwarder({ host: kamailio.host, port: kamailio.port });
  const midPort = await allocatePort();
  const keys = {
    upstreamUri: 'sip:example.com',
    upstreamOutboundProxy: forwarder.address,
    listen: [`udp:127.0.0.1:${midPort}`],
    minExpires: 1,
    ...configKeys,
  };
  const config = parseConfig({ tokenSecret: 'integration-test-secret', ...keys });
  const mid = await startLocalGateway({ config: keys });
  const recorder: SweepRecorder = { lines: [], counts: new Map() };
  const record = (level: string) => (fields: object, message: string) => void recorder.lines.push({ level, message, fields });
  const sweep = await createLocalSweep({
    config,
    store: mid.store,
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
    metrics: { increment: (name, by = 1) => void recorder.counts.set(name, (recorder.counts.get(name) ?? 0) + by) },
    channel: mid.gateway.upstreamChannel(),
  });
  // The local runtime's ticker: one run at a time, never overlapping (GEN-1).
  let running = false;
  const ticker = setInterval(() => {
    if (running) return;
    running = true;
    void sweep.timedWork(Date.now()).finally(() => (running = false));
  }, tickIntervalMs);
  const setup: TimedWorkSetup = {
    config,
    midPort,
    kamailio,
    forwarder,
    mid,
    sweep,
    recorder,
    async stopKamailioFor(downMs) {
      const port = kamailio.port;
      await kamailio.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      kamailio = await startKamailio({ trustedSources: ['127.0.0.1'], port });
      setup.kamailio = kamailio;
    },
    async close() {
      clearInterval(ticker);
      while (running) await new Promise((resolve) => setTimeout(resolve, 50));
      await sweep.close();
      await mid.close();
      await forwarder.close();
      await setup.kamailio.stop();
    },
  };
  return setup;
}

/** Polls `probe` every `everyMs` until it returns true; resolves with the time it did, or rejects after `timeoutMs`. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return Date.now();
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
