/**
 * The custom CloudWatch metrics the dashboard, the alarms and the autoscaling policy read (EMF from the
 * gateway's stdout and from the functions' Powertools Metrics). The stack passes the namespace and the
 * service names to the code through the environment (see {@link metricEnvironment}), so producers and
 * consumers agree on namespace and dimensions.
 */

/** Where and under which dimensions the product publishes its metrics. */
export interface MetricCatalog {
  /** CloudWatch namespace of all product metrics. */
  readonly namespace: string;
  /** Dimensions on every gateway metric (the gateway's MetricsRegistry `dimensions`). */
  readonly gatewayDimensions: Readonly<Record<string, string>>;
  /** Dimensions on every function metric (Powertools adds `service` = POWERTOOLS_SERVICE_NAME). */
  readonly functionDimensions: Readonly<Record<string, string>>;
  /**
   * How often each gateway task flushes its counters. With the `Average` statistic over tasks, a
   * counter then reads "per task per flush", which the autoscaling target is scaled by.
   */
  readonly gatewayFlushIntervalSec: number;
}

/**
 * Metric names (counters), as the producers emit them: the gateway's register proxy
 * (sip-gateway/src/proxy/register-proxy.ts) and the handlers' `HANDLER_METRIC`
 * (functions/handlers/decision-batch-handler.ts) and timed-work outcomes (functions/core/timed-work).
 */
export const METRIC = {
  /** Gateway: REGISTER requests that reached a decision (REGISTERs in). */
  registerIn: 'register_decisions',
  /** Gateway: REGISTERs answered locally (absorbed, M1/M2). */
  registerAbsorbed: 'register_absorbed',
  /** Gateway: REGISTERs relayed to the main registrar. */
  registerForwarded: 'register_relayed',
  /** Gateway: final responses from the main registrar to relayed REGISTERs. */
  upstreamReplies: 'upstream_replies',
  /** Functions (sweep): De-REGISTERs sent upstream. */
  deregisterSent: 'deregister_sent',
  /** Functions (sweep): De-REGISTERs that failed after all retries (SPEC INV-2, DRG-6); dead letters. */
  deregisterFailed: 'deregister_failed',
  /** Functions: lookups that found targets. */
  lookupHit: 'lookup_hit',
  /** Functions: lookups that found no binding (404/480). */
  lookupMiss: 'lookup_miss',
  /** Functions: lookups refused (403). */
  lookupRejected: 'lookup_rejected',
  /** Functions: requests relayed without a lookup. */
  lookupRelayed: 'lookup_relayed',
} as const;

/** The catalog the stack uses unless told otherwise. */
export const DEFAULT_METRIC_CATALOG: MetricCatalog = Object.freeze({
  namespace: 'SipMidRegistrar',
  gatewayDimensions: Object.freeze({ Service: 'sip-gateway' }),
  functionDimensions: Object.freeze({ service: 'mid-registrar-functions' }),
  gatewayFlushIntervalSec: 60,
});

/** Environment that tells producers the catalog (read by the gateway's and the functions' config loaders). */
export function metricEnvironment(catalog: MetricCatalog, producer: 'gateway' | 'functions'): Record<string, string> {
  const env: Record<string, string> = { METRICS_NAMESPACE: catalog.namespace };
  if (producer === 'functions') {
    env.POWERTOOLS_METRICS_NAMESPACE = catalog.namespace;
    env.POWERTOOLS_SERVICE_NAME = catalog.functionDimensions.service ?? 'mid-registrar-functions';
  } else {
    env.METRICS_FLUSH_INTERVAL_SEC = String(catalog.gatewayFlushIntervalSec);
  }
  return env;
}
