/**
 * The gateway as a Fargate task (DESIGN §2, §7): decisions from the register and lookup Lambdas,
 * batched; timed work belongs to EventBridge Scheduler and the sweep Lambda, so no store or ticker here.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { MidRegistrarConfig } from '../../../functions/core/config';
import { LambdaDecisionInvoker } from '../decision/lambda-decision-invoker';
import { Gateway, SystemClock } from '../gateway';
import { startHealthServer, type HealthServer } from '../health/health-server';
import { createLogger, type Logger } from '../observability/logger';
import { MetricsRegistry } from '../observability/metrics-registry';

/** A decision's deadline: well under the UA's Timer F (32 s) and the ~500 ms first retransmission backoff doubling. */
const DECISION_DEADLINE_MS = 3_000;
/** Invocations in flight per task; Lambda's regional concurrency is the real bound. */
const DECISION_CONCURRENCY = 64;
/** EMF flush period: one line per minute per metric set, read by CloudWatch from stdout. */
const METRICS_FLUSH_MS = 60_000;

/** Options of {@link openAwsRuntime}. */
export interface AwsRuntimeOptions {
  gatewayId: string;
  registerFunction: string;
  lookupFunction: string;
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
  const metrics = new MetricsRegistry({ namespace: 'MidRegistrar', dimensions: { Service: 'sip-gateway' } });
  const stopMetrics = metrics.startPeriodicFlush(METRICS_FLUSH_MS);
  const invoker = new LambdaDecisionInvoker({
    client: new LambdaClient({}),
    functionNames: { register: options.registerFunction, 'register-reply': options.registerFunction, lookup: options.lookupFunction },
    maxBatchSize: config.decisionBatchMax,
    maxBatchWaitMs: config.decisionBatchWaitMs,
    deadlineMs: DECISION_DEADLINE_MS,
    maxConcurrency: DECISION_CONCURRENCY,
    retryAfterMs: config.retryAfterMs,
    clock: new SystemClock(),
    logger,
    metrics,
  });
  const gateway = await Gateway.start({ config, invoker, gatewayId: options.gatewayId, logger, metrics });
  let health: HealthServer;
  try {
    health = await startHealthServer({
      port: config.healthPort,
      status: () => ({ ready: !gateway.isDraining, details: { mode: config.mode, inFlight: gateway.inFlight } }),
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
