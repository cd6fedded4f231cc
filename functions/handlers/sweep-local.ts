/**
 * The local twin of the sweep schedules (GEN-1): `npm start` runs the same {@link SweepService} as the
 * Lambda, one pass over every shard per tick of the in-process ticker.
 */
import { randomBytes } from 'node:crypto';
import type { MidRegistrarConfig } from '../core/config';
import type { AorRecord } from '../core/model';
import { createIdGenerator, type IdGenerator } from '../core/random';
import type { BindingStore } from '../store/binding-store';
import { openSipClientChannel, type UpstreamChannel } from '../upstream/upstream-channel';
import { createUpstreamSender } from '../upstream/upstream-sender';
import { SweepService, type SweepObserver, type SweepPassReport } from './sweep-service';
import { parseUri } from '../../sip-gateway/src/sip/uri';

/** The pino-style logger of the local runtime. */
export interface LocalSweepLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options of {@link createLocalSweep}. */
export interface LocalSweepOptions {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  logger: LocalSweepLogger;
  /** The local metrics registry (`increment(name, by)`). */
  metrics: { increment(name: string, by?: number): void };
  /**
   * FWD-9: the gateway's own sockets, so our REGISTERs leave from `advertisedUri`. Without it the
   * sweep opens its own sockets on the advertised host (ephemeral ports, `rport`).
   */
  channel?: UpstreamChannel;
  ids?: IdGenerator;
  /** @default Date.now */
  nowMs?: () => number;
  /** Passed to the service (bench, tests). */
  concurrency?: number;
}

/** A running local sweep. */
export interface LocalSweep {
  /** One pass over every shard at `nowMs`: the ticker's `timedWork` hook. */
  timedWork(nowMs: number): Promise<void>;
  /** The pass report of the latest {@link timedWork} call, summed over shards. */
  readonly lastReport: SweepPassReport | undefined;
  /** Closes the sockets the sweep opened itself (a lent channel stays open). */
  close(): Promise<void>;
}

/**
 * Builds the local sweep.
 *
 * @example
 * ```ts
 * const sweep = await createLocalSweep({ config, store, logger, metrics, channel: gateway.upstreamChannel() });
 * const runtime = await openLocalRuntime(config, { gatewayId, timedWork: (nowMs) => sweep.timedWork(nowMs) });
 * ```
 */
export async function createLocalSweep(options: LocalSweepOptions): Promise<LocalSweep> {
  const { config, logger, metrics } = options;
  const ownChannel = options.channel === undefined ? await openSipClientChannel({ bindHost: advertisedBindHost(config) }) : undefined;
  const channel = options.channel ?? ownChannel!;
  const observer: SweepObserver = {
    count: (metric, by) => metrics.increment(metric, by),
    log: (level, message, fields) => logger[level](fields, message),
  };
  const service = new SweepService({
    config,
    store: options.store,
    ids: options.ids ?? createIdGenerator((length) => randomBytes(length)),
    sender: createUpstreamSender(channel),
    nowMs: options.nowMs ?? (() => Date.now()),
    observer,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  let lastReport: SweepPassReport | undefined;
  return {
    async timedWork(nowMs) {
      const reports = await Promise.all(Array.from({ length: config.shardCount }, (_, shard) => service.sweepShard(shard, nowMs)));
      lastReport = reports.reduce((sum, r) => ({
        aors: sum.aors + r.aors,
        deregistersSent: sum.deregistersSent + r.deregistersSent,
        refreshesSent: sum.refreshesSent + r.refreshesSent,
        failures: sum.failures + r.failures,
        conflicts: sum.conflicts + r.conflicts,
        deleted: sum.deleted + r.deleted,
        errors: sum.errors + r.errors,
      }));
    },
    get lastReport() {
      return lastReport;
    },
    async close() {
      await ownChannel?.close();
    },
  };
}

/** The advertised host when it is an IPv4 literal this machine may bind, else the wildcard. */
function advertisedBindHost(config: MidRegistrarConfig): string {
  const host = parseUri(config.advertisedUri).host;
  const listened = config.listen.some((socket) => socket.host === host);
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) && listened ? host : '0.0.0.0';
}
