/**
 * The gateway as a Fargate task (DESIGN §2, §7): decisions from the register and lookup Lambdas,
 * batched; timed work belongs to EventBridge Scheduler and the sweep Lambda, so no store or ticker here.
 */
import { networkInterfaces } from 'node:os';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { MidRegistrarConfig } from '../../../functions/core/config';
import { ConfigError } from '../../../functions/core/errors';
import { DECISION_STORE_BUDGET_MS } from '../../../functions/handlers/dynamodb-client';
import { LambdaDecisionInvoker } from '../decision/lambda-decision-invoker';
import { Gateway } from '../gateway';
import { SystemClock } from '../transport/system-clock';
import { startHealthServer, type HealthServer } from '../health/health-server';
import { createLogger, type Logger } from '../observability/logger';
import { MetricsRegistry } from '../observability/metrics-registry';
import type { InternalHopAddress } from '../proxy/internal-hop';

/** Environment variables of the task (infra/lib/stacks/mid-registrar-stack.ts `ENV`) read here. */
export const AWS_RUNTIME_ENV = {
  internalHopPort: 'INTERNAL_HOP_PORT',
  metricsNamespace: 'METRICS_NAMESPACE',
  metricsFlushIntervalSec: 'METRICS_FLUSH_INTERVAL_SEC',
  decisionDeadlineMs: 'DECISION_DEADLINE_MS',
  decisionConcurrency: 'DECISION_CONCURRENCY',
  containerMetadataUri: 'ECS_CONTAINER_METADATA_URI_V4',
} as const;

/**
 * The least decision deadline: the functions' store time per invocation (functions/handlers/dynamodb-client.ts
 * `DECISION_STORE_BUDGET_MS`, store calls that could outlast it answer 503 at once) plus the Invoke round trip
 * and batching wait. A shorter deadline would turn a store the function still answers for (503, ERR-5) into
 * the gateway's 500.
 */
export const MIN_DECISION_DEADLINE_MS = DECISION_STORE_BUDGET_MS + 500;

/** The task's settings from its environment (defaults in parentheses of each field). */
export interface AwsRuntimeSettings {
  /** A decision's deadline (3000 ms): under the UA's Timer F (32 s), at least {@link MIN_DECISION_DEADLINE_MS}. */
  decisionDeadlineMs: number;
  /** Invocations in flight per task (64); Lambda's regional concurrency is the real bound. */
  decisionConcurrency: number;
  /** CloudWatch namespace of the EMF metrics (`MidRegistrar`; the stack sets the catalog's). */
  metricsNamespace: string;
  /** EMF flush period (60 s): one line per period per metric set, read by CloudWatch from stdout. */
  metricsFlushMs: number;
  /** The internal hop port (5090). */
  internalHopPort: number;
}

/**
 * Reads {@link AwsRuntimeSettings} from the task environment.
 *
 * @throws ConfigError naming the variable when a value is not a positive integer or the deadline is
 *   below {@link MIN_DECISION_DEADLINE_MS}
 */
export function readAwsRuntimeSettings(env: NodeJS.ProcessEnv): AwsRuntimeSettings {
  const integer = (name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) throw new ConfigError(name, `must be an integer from ${min} to ${max}`);
    return value;
  };
  const decisionDeadlineMs = integer(AWS_RUNTIME_ENV.decisionDeadlineMs, 3_000, MIN_DECISION_DEADLINE_MS, 30_000);
  return {
    decisionDeadlineMs,
    decisionConcurrency: integer(AWS_RUNTIME_ENV.decisionConcurrency, 64, 1, 10_000),
    metricsNamespace: env[AWS_RUNTIME_ENV.metricsNamespace] || 'MidRegistrar',
    metricsFlushMs: integer(AWS_RUNTIME_ENV.metricsFlushIntervalSec, 60, 1, 3600) * 1000,
    internalHopPort: integer(AWS_RUNTIME_ENV.internalHopPort, 5090, 1, 65535),
  };
}

/**
 * The task's private IPv4 address: from the ECS task metadata endpoint v4 (awsvpc: the ENI address),
 * else the first non-internal IPv4 interface address.
 *
 * @throws Error when neither gives an address
 */
export async function resolveTaskPrivateAddress(env: NodeJS.ProcessEnv, fetchJson: (url: string) => Promise<unknown> = defaultFetchJson): Promise<string> {
  const metadataUri = env[AWS_RUNTIME_ENV.containerMetadataUri];
  if (metadataUri) {
    const metadata = (await fetchJson(metadataUri)) as { Networks?: Array<{ IPv4Addresses?: string[] }> };
    const address = metadata.Networks?.[0]?.IPv4Addresses?.[0];
    if (address !== undefined) return address;
  }
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
  if (address === undefined) throw new Error('no private IPv4 address for the internal hop');
  return address;
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`task metadata ${url}: HTTP ${response.status}`);
  return response.json();
}

/** Options of {@link openAwsRuntime}. */
export interface AwsRuntimeOptions {
  /** `<private address>:<internal hop port>` when {@link internalHop} is set. */
  gatewayId: string;
  /** The internal hop socket (DESIGN §5); without it requests for devices are sent from this task. */
  internalHop?: InternalHopAddress;
  registerFunction: string;
  lookupFunction: string;
  /** Default: the defaults of {@link readAwsRuntimeSettings}. */
  settings?: AwsRuntimeSettings;
  logger?: Logger;
}

/** A running gateway task. */
export interface AwsRuntime {
  readonly config: MidRegistrarConfig;
  readonly gateway: Gateway;
  readonly health: HealthServer;
  statusLine(): string;
  /** SIGTERM: health 503 (the NLB drains the target), in-flight transactions finish, sockets close. */
  stop(drainTimeoutMs: number): Promise<void>;
}

/**
 * Starts the gateway with Lambda decisions.
 *
 * @example
 * const runtime = await openAwsRuntime(config, { gatewayId, registerFunction: 'mr-register', lookupFunction: 'mr-lookup' });
 */
export async function openAwsRuntime(config: MidRegistrarConfig, options: AwsRuntimeOptions): Promise<AwsRuntime> {
  const logger = options.logger ?? createLogger({ name: 'sip-gateway', base: { gatewayId: options.gatewayId } });
  const settings = options.settings ?? readAwsRuntimeSettings({});
  const metrics = new MetricsRegistry({ namespace: settings.metricsNamespace, dimensions: { Service: 'sip-gateway' } });
  const stopMetrics = metrics.startPeriodicFlush(settings.metricsFlushMs);
  const invoker = new LambdaDecisionInvoker({
    client: new LambdaClient({}),
    functionNames: { register: options.registerFunction, 'register-reply': options.registerFunction, lookup: options.lookupFunction },
    maxBatchSize: config.decisionBatchMax,
    maxBatchWaitMs: config.decisionBatchWaitMs,
    deadlineMs: settings.decisionDeadlineMs,
    maxConcurrency: settings.decisionConcurrency,
    retryAfterMs: config.retryAfterMs,
    clock: new SystemClock(),
    logger,
    metrics,
  });
  const gateway = await Gateway.start({ config, invoker, gatewayId: options.gatewayId,
    ...(options.internalHop === undefined ? {} : { internalHop: options.internalHop }),
    logger,
    metrics,
  });
  let health: HealthServer;
  try {
    health = await startHealthServer({
      port: config.healthPort,
      status: () => ({ ready: !gateway.isDraining, details: { mode: config.mode, inFlight: gateway.inFlight, gatewayId: options.gatewayId } }),
    });
  } catch (error) {
    await gateway.close();
    throw error;
  }
  return {
    config,
    gateway,
    health,
    statusLine: () =>
      `sip-gateway mode=${config.mode} listen=${gateway.listening.map((s) => `${s.transport}:${s.host}:${s.port}`).join(',')} ` +
      `upstream=${config.upstreamUri} advertised=${config.advertisedUri} decisions=lambda:${options.registerFunction},${options.lookupFunction}`,
    async stop(drainTimeoutMs) {
      await gateway.drain(drainTimeoutMs);
      await gateway.close();
      await health.close();
      stopMetrics();
    },
  };
}
