/**
 * State and messages of the timed work: De-REGISTERs (SPEC DRG-1..7) and proactive upstream
 * refreshes (DRG-8..10), with retries (DRG-6) and digest answers (DRG-11).
 *
 * @remarks
 * The state lives in the AoR record, so the store's conditional put on the record version is the
 * claim: two sweeps racing on one AoR both plan the same send, only one commits it, and only the one
 * that committed sends. The state's shape is declared in model.ts with the rest of the record (its
 * fields are optional, so the register/reply core need not set them); the names are re-exported here
 * for the importers of this module.
 */
import type { HeaderField } from '../contract';
import type { CORE_METRICS } from '../core-metrics';
import type { AorRecord, DeregisterWork } from '../model';

export type { AttemptState, InFlightAttempt, PathOverlap, PendingChallenge, RefreshTarget, RefreshWork, UpstreamShadow } from '../model';

/** A De-REGISTER with its attempt state: {@link DeregisterWork} (model.ts declares the shape). */
export type DeregisterWorkState = DeregisterWork;

/** An AoR record as the timed-work core reads and writes it: {@link AorRecord} (model.ts declares the shape). */
export type TimedWorkRecord = AorRecord;

/**
 * A REGISTER the mid-registrar originates (DRG-5, DRG-9), fully shaped. The sender adds its Via
 * (sent-by from {@link sourceUri}, `rport`, FWD-9) and `Content-Length: 0`, then writes
 * `REGISTER <requestUri> SIP/2.0` and {@link headers} in order.
 */
export interface OutgoingRegister {
  workId: string;
  attemptId: string;
  purpose: 'deregister' | 'refresh';
  requestUri: string;
  /** Next hop `host:port[;transport=x]`; absent: resolve {@link requestUri}. No Route is added (CFG-1). */
  outboundProxy?: string;
  /** FWD-9: the socket to send from (`advertisedUri`). */
  sourceUri: string;
  /** Wait this long for a final response, then report a timeout (RPL-9, DRG-6). */
  timeoutMs: number;
  /** From, To, Call-ID, CSeq, Contact, Max-Forwards, then Path/Supported and Authorization when present. */
  headers: HeaderField[];
  /** The Contact URI it addresses, for logs (DRG-6: logged with AoR and contact). */
  contactUri: string;
  /** `expires` of that contact: 0 for a De-REGISTER, O for a refresh. */
  expiresSec: number;
}

/** How one transmission ended, as the sender saw it. */
export type TimedWorkOutcome =
  | {
      kind: '2xx';
      /** g: our contact's expires, else the Expires header (RPL-4); absent: the E we sent. */
      grantedExpiresSec?: number;
      /** Our contact exactly as upstream returned it (RPL-5). */
      contactAsReturned?: string;
    }
  | {
      kind: 'failure';
      status: number;
      /** Retry-After in seconds, if the response had one (DRG-6). */
      retryAfterSec?: number;
      /** The WWW-Authenticate (401) / Proxy-Authenticate (407) value, if any (DRG-11). */
      challenge?: string;
    }
  | { kind: 'timeout' }
  | { kind: 'transport-error' };

/** A final failure of timed work: log it, count it, keep a dead letter (DRG-6, DRG-9, INV-2). */
export interface TimedWorkFailure {
  /** Metric to increment. */
  metric: typeof CORE_METRICS.deregisterFailed | typeof CORE_METRICS.upstreamRefreshFailed;
  /** Dead-letter fields (the store's `DeadLetter`). */
  aor: string;
  kind: 'deregister' | 'upstream-refresh';
  atMs: number;
  detail: {
    workId: string;
    contactUri: string;
    attempts: number;
    lastFailure: string;
    contactId?: string;
    incarnationId?: string;
  };
}

/** Result of planning or applying timed work. */
export interface TimedWorkResult {
  /** The record to commit (conditional put on the version read) when {@link changed}. */
  nextRecord: TimedWorkRecord;
  /** False when nothing changed: no write needed. */
  changed: boolean;
  /** REGISTERs to send, only after {@link nextRecord} committed (the commit is the claim). */
  sends: OutgoingRegister[];
  /** Final failures to log, count and dead-letter after the commit. */
  failures: TimedWorkFailure[];
}
