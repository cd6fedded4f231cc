/**
 * The local mode's composition (DESIGN §7 `npm start`): embedded store, in-process decisions, the
 * gateway, the health endpoint and the timed-work ticker, started and stopped together.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MidRegistrarConfig } from '../../../functions/core/config';
import type { AorRecord } from '../../../functions/core/model';
import type { BindingStore } from '../../../functions/store/binding-store';
import { DynamoDbBindingStore } from '../../../functions/store/dynamodb-binding-store';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { createDynamoDbClient } from '../../../functions/handlers/dynamodb-client';
import { createLocalSweep, type LocalSweep } from '../../../functions/handlers/sweep-local';
import { InProcessDecisionInvoker } from '../decision/in-process-decision-invoker';
import { createLocalDecisionServices } from '../decision/local-decision-services';
import { Gateway } from '../gateway';
import { startHealthServer, type HealthServer } from '../health/health-server';
import { createLogger, type Logger } from '../observability/logger';
import { MetricsRegistry } from '../observability/metrics-registry';
import type { InternalHopAddress } from '../proxy/internal-hop';

/** Options of {@link openLocalRuntime}. */
export interface LocalRuntimeOptions {
  gatewayId: string;
  /** Default: a JSON-lines logger on stderr (stdout carries only the status line). */
  logger?: Logger;
  /** Period of the timed-work sweep; default 1000 ms, well inside `deregisterBound` (DRG-4). */
  tickIntervalMs?: number;
  /** This instance's internal hop socket; `gatewayId` is then its `<address>:<port>` (DESIGN §5). */
  internalHop?: InternalHopAddress;
  /**
   * Bindings in DynamoDB (e.g. dynalite) instead of the embedded store, so several local instances
   * share one store (the owner-hop test). Credentials and region come from the usual AWS environment.
   */
  dynamodb?: { endpoint: string; tableName: string };
}

/** A running local mid-registrar. */
export interface LocalRuntime {
  /** The configuration in force (with the persisted `tokenSecret`). */
  readonly config: MidRegistrarConfig;
  readonly gateway: Gateway;
  readonly health: HealthServer;
  /** One line: mode, listen sockets, upstream, health URL. */
  statusLine(): string;
  /** SIGTERM: health turns 503, in-flight transactions finish (at most `drainTimeoutMs`), everything closes. */
  stop(drainTimeoutMs: number): Promise<void>;
}

const TOKEN_SECRET_FILE = 'token-secret';

/** PTH-7: `tokenSecret` defaults to one generated once and kept in `dataDir`, so tokens survive restarts. */
function withTokenSecret(config: MidRegistrarConfig): MidRegistrarConfig {
  if (config.tokenSecret !== undefined) return config;
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, TOKEN_SECRET_FILE);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  return Object.freeze({ ...config, tokenSecret: readFileSync(file, 'utf8').trim() });
}

/**
 * Starts everything the local mode runs.
 *
 * @throws when a socket cannot be bound or `dataDir` is locked by another process
 */
export async function openLocalRuntime(rawConfig: MidRegistrarConfig, options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const config = withTokenSecret(rawConfig);
  const logger = options.logger ?? createLogger({ name: 'mid-registrar', base: { gatewayId: options.gatewayId }, destination: process.stderr });
  const metrics = new MetricsRegistry({ namespace: 'MidRegistrar', dimensions: { Service: 'local' }, write: () => undefined });
  const store = openStore(config, options.dynamodb);
  let gateway: Gateway | undefined;
  let health: HealthServer | undefined;
  let sweep: LocalSweep | undefined;
  try {
    const invoker = new InProcessDecisionInvoker({
      services: createLocalDecisionServices(config, store, { logger, metrics }),
      retryAfterMs: config.retryAfterMs,
      logger,
      metrics,
    });
    gateway = await Gateway.start({
      config,
      invoker,
      gatewayId: options.gatewayId,
      logger,
      metrics,
      ...(options.internalHop === undefined ? {} : { internalHop: options.internalHop }),
    });
    const running = gateway;
    health = await startHealthServer({
      host: config.listen[0]?.host,
      port: config.healthPort,
      // Counters since start (the local registry is never flushed) and store operations, for the benchmark.
      status: () => ({
        ready: !running.isDraining,
        details: { mode: config.mode, inFlight: running.inFlight, gatewayId: options.gatewayId, counters: metrics.snapshot().counters, store: store.stats() },
      }),
    });
    sweep = await createLocalSweep({ config, store, logger, metrics, channel: gateway.upstreamChannel() });
  } catch (error) {
    await health?.close();
    await gateway?.close();
    store.close();
    throw error;
  }
  const started = { gateway, health, sweep };
  const ticker = startTicker((nowMs) => started.sweep.timedWork(nowMs), options.tickIntervalMs ?? 1_000, logger);
  return {
    config,
    ...started,
    statusLine: () =>
      `mid-registrar mode=${config.mode} listen=${started.gateway.listening.map((s) => `${s.transport}:${s.host}:${s.port}`).join(',')} ` +
      `upstream=${config.upstreamUri} advertised=${config.advertisedUri} health=http://${config.listen[0]?.host ?? '0.0.0.0'}:${started.health.port}/health`,
    async stop(drainTimeoutMs) {
      await started.gateway.drain(drainTimeoutMs);
      await ticker.stop();
      await started.sweep.close();
      await started.gateway.close();
      await started.health.close();
      store.close();
    },
  };
}

/** A store with `close`: the embedded one in `dataDir`, or DynamoDB at an endpoint. */
function openStore(config: MidRegistrarConfig, dynamodb: LocalRuntimeOptions['dynamodb']): BindingStore<AorRecord> & { close(): void } {
  if (dynamodb === undefined) return EmbeddedBindingStore.open<AorRecord>({ dataDir: config.dataDir, shardCount: config.shardCount });
  const client = createDynamoDbClient({ endpoint: dynamodb.endpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
  const store = new DynamoDbBindingStore<AorRecord>({ client, tableName: dynamodb.tableName, shardCount: config.shardCount });
  return Object.assign(store, { close: () => client.destroy() });
}

/** A running ticker. */
interface Ticker {
  /** Stops ticking and resolves once the run in progress, if any, has finished. */
  stop(): Promise<void>;
}

/** GEN-1: the in-process twin of EventBridge Scheduler; one run at a time, never overlapping. */
function startTicker(timedWork: (nowMs: number) => Promise<void>, intervalMs: number, logger: Logger): Ticker {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = timedWork(Date.now())
      .catch((error: unknown) => logger.error({ err: error }, 'timed work failed'))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
