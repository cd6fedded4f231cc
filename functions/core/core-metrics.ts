/**
 * Names of the events the decision core reports for the adapters to log and count (SPEC RPL-1, RPL-5,
 * DRG-6, DRG-9, INV-2). The core returns them as event kinds (`ReplyEvent`) and failure metrics
 * (`TimedWorkFailure.metric`); adapters count them under these exact names, so dashboards and alarms
 * see one spelling everywhere.
 *
 * @example
 * ```ts
 * for (const event of outcome.events) metrics.count(event.kind); // e.g. CORE_METRICS.upstreamContactMissing
 * ```
 */
export const CORE_METRICS = {
  /** RPL-5, RPL-6: upstream's 2xx lacked a contact we relayed with E > 0 (MUST be logged and counted). */
  upstreamContactMissing: 'upstream_contact_missing',
  /** RPL-1: a 423 in modes 1 and 2, likely `outgoingExpires` below upstream's minimum. */
  upstreamIntervalTooBrief: 'upstream_interval_too_brief',
  /** A reply for a relay the record no longer holds (taken over by DRG-7, or superseded). */
  staleRelay: 'stale_relay',
  /** DRG-6, INV-2: a De-REGISTER failed finally. */
  deregisterFailed: 'deregister_failed',
  /** DRG-9: a proactive refresh failed finally. */
  upstreamRefreshFailed: 'upstream_refresh_failed',
} as const;

/** One of the {@link CORE_METRICS} names. */
export type CoreMetricName = (typeof CORE_METRICS)[keyof typeof CORE_METRICS];
