/**
 * State and messages of the timed work: De-REGISTERs (SPEC DRG-1..7) and proactive upstream
 * refreshes (DRG-8..10), with retries (DRG-6) and digest answers (DRG-11).
 *
 * @remarks
 * The state lives in the AoR record, so the store's conditional put on the record version is the
 * claim: two sweeps racing on one AoR both plan the same send, only one commits it, and only the one
 * that committed sends. Every field added here is optional, so any {@link AorRecord} is a
 * {@link TimedWorkRecord} and the register/reply core need not know about them.
 */
import type { HeaderField } from '../contract';
import type { AorRecord, DeregisterWork, UpstreamRegistration } from '../model';

/** One transmission of a work item that has been claimed and not yet answered. */
export interface InFlightAttempt {
  /** Names this transmission; an outcome for another one is stale and ignored. */
  attemptId: string;
  /** GEN-2/DRG-9: when it was claimed and sent; a refresh 2xx sets U = this + g. */
  sentAtMs: number;
  /** After this, with no outcome reported, the sender is presumed dead: the attempt counts as a timeout. */
  claimUntilMs: number;
  cseq: number;
  /** Whether this transmission answered a challenge (DRG-11: once per attempt). */
  answeredChallenge: boolean;
}

/** A 401/407 challenge to answer in the same attempt (DRG-11). */
export interface PendingChallenge {
  /** 401 → Authorization, 407 → Proxy-Authorization (RFC 3261 §22.2, §22.3). */
  status: 401 | 407;
  /** The WWW-Authenticate / Proxy-Authenticate value. */
  challenge: string;
}

/** Attempt bookkeeping shared by both kinds of work (DRG-6). */
export interface AttemptState {
  /** Attempts started so far; a challenge answer belongs to the attempt it answers. */
  attempts: number;
  /** Earliest time of the next transmission. */
  nextAttemptAtMs: number;
  /** The claimed transmission, while one is outstanding. */
  inFlight?: InFlightAttempt;
  /** A challenge to answer with the next transmission, without starting a new attempt. */
  pendingChallenge?: PendingChallenge;
  /** Last CSeq used for this work's Call-ID; the next transmission uses this + 1 (DRG-5). */
  lastCseq: number;
  /** Last failure, for the log line and dead letter of a final failure. */
  lastFailure?: string;
}

/** A De-REGISTER with its attempt state; stored in {@link AorRecord.deregisterWork}. */
export type DeregisterWorkState = DeregisterWork & Partial<AttemptState>;

/** What a proactive refresh keeps alive (DRG-8): one binding's registration (mode 1) or the incarnation's (mode 2). */
export type RefreshTarget = { contactId: string } | { incarnationId: string };

/** A proactive upstream refresh (DRG-8, DRG-9). */
export interface RefreshWork extends AttemptState {
  workId: string;
  target: RefreshTarget;
  /** U of the registration when the work was created; the work is moot once U moved on. */
  forLapsesAtMs: number;
  /** DRG-10: forced after a path-insertion overlap, whatever DRG-8 says. */
  forced: boolean;
  /** Set when retries gave up (DRG-9): kept until U so it is not planned again, then dropped. */
  abandoned?: boolean;
}

/**
 * DRG-10: with path insertion, a relay for `contactUri` went out while a De-REGISTER for the same
 * URI was in flight; the binding its 2xx commits gets a proactive refresh.
 */
export interface PathOverlap {
  contactUri: string;
  /** The De-REGISTER's in-flight window. */
  fromMs: number;
  untilMs: number;
}

/**
 * DRG-7: a relay that ended without a processed final response carried a contact that a valid binding
 * still covered, so nothing was orphaned then; but upstream may have applied it and now hold that
 * contact until `upstream.lapsesAtMs` (relay time + E), beyond the covering registration's U. When
 * no valid binding covers the contact any more, it is De-REGISTERed as an orphan.
 */
export interface UpstreamShadow {
  workId: string;
  /** What the relay would have registered, addressed like an orphan (DRG-7). */
  upstream: UpstreamRegistration;
  contactId?: string;
  incarnationId?: string;
}

/** The timed-work fields of an AoR record (all optional: an {@link AorRecord} is a valid value). */
export interface TimedWorkFields {
  refreshWork?: RefreshWork[];
  pathOverlaps?: PathOverlap[];
  upstreamShadows?: UpstreamShadow[];
}

/** An AoR record as the timed-work core reads and writes it. */
export type TimedWorkRecord = AorRecord & TimedWorkFields;

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
  metric: 'deregister_failed' | 'upstream_refresh_failed';
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
