/**
 * The decision contract between the sip-gateway and the decision functions (DESIGN §3).
 *
 * @remarks
 * Plain, versioned JSON: the same values travel in-process (local mode) and as Lambda payloads (AWS),
 * so both behave identically on the wire (GEN-1). This module is imported by the gateway, so it imports
 * nothing but types from `model.ts`, and the only runtime values it exports are constants.
 *
 * Three operations:
 * - `register`: {@link RegisterRequest} → {@link RegisterDecision} (`decideRegister`, SPEC §4–6).
 * - `register-reply`: {@link RegisterReplyRequest} → {@link RegisterReplyDecision} (`applyUpstreamReply`,
 *   SPEC §7). State is committed only on 2xx. The gateway forwards a non-2xx final response to the UA at
 *   once, unchanged (RPL-1), and then reports it (outcome `final`) so the pending relay is released
 *   without De-REGISTER; a timeout or transport failure (RPL-9) is reported with outcome `timeout` /
 *   `transport-error` and answered with the returned local response.
 * - `lookup`: {@link LookupRequest} → {@link LookupDecision} (`resolveTargets`, SPEC §9).
 *
 * One decision per server transaction (GEN-6) is the gateway's job: it suspends the transaction while a
 * decision is pending and replays the stored response to retransmissions; nothing here depends on being
 * called once, except that a {@link RelayContext} names exactly one pending relay (RPL-2).
 */
import type { Flow, Mode } from './model';

export type { Flow, FlowTransport, Mode } from './model';

/** Version of this contract; bumped on any incompatible change. */
export const CONTRACT_VERSION = 1;

/** A header field as [name, value]; names in their canonical long form (`Contact`, `Retry-After`). */
export type HeaderField = [name: string, value: string];

/**
 * A response the mid-registrar generates itself (REG-10, ERR-6). The gateway copies Via, From, To,
 * Call-ID and CSeq from the request (RFC 3261 §8.2.6.2), adds `;tag=<toTag>` to To if it has no tag,
 * then appends {@link headers} in order. No body.
 */
export interface LocalResponse {
  status: number;
  reason: string;
  /** Extra headers in order: Contact (one field listing all bindings), Path, P-Registrar-Error, Retry-After, Min-Expires, Unsupported. */
  headers: HeaderField[];
  /** To tag to add when the request's To has none. */
  toTag: string;
}

/**
 * A REGISTER's essentials, as the gateway extracted them (REG-1 steps 1–2 already passed: Via, From, To,
 * Call-ID and CSeq present and parsable, CSeq method REGISTER, size within `maxMessageSize`).
 */
export interface RegisterRequest {
  version: typeof CONTRACT_VERSION;
  /** Request-URI as received (not checked, REG-2). */
  requestUri: string;
  /** Raw From header value (name-addr with tag). */
  from: string;
  /** Raw To header value. */
  to: string;
  /** Raw Contact values, one per contact (split at top-level commas by the codec); `['*']` for a star. */
  contacts: string[];
  /** Raw Expires header value, if present. */
  expires?: string;
  callId: string;
  /** CSeq sequence number. */
  cseq: number;
  /** Raw Path values, top first, one per URI (split by the codec). */
  path: string[];
  /** Supported option tags (lower-cased by the gateway). */
  supported: string[];
  /** Whether Authorization or Proxy-Authorization is present (logging; relays keep it, CFG-3). */
  hasAuthorization: boolean;
  /** Max-Forwards value; absent means 70 (RFC 3261 §16.6 step 3). */
  maxForwards?: number;
  userAgent?: string;
  /** The flow the REGISTER came on, incl. the receiving gateway (PTH-1, PTH-2). */
  flow: Flow;
  /** GEN-2: when the gateway received the first transmission; the decision's `now`. */
  receivedAtMs: number;
}

/**
 * How the gateway rewrites the UA's REGISTER into the relay (FWD-1..9). The gateway itself adds its
 * Via (sent-by from `advertisedUri`, FWD-9), decrements Max-Forwards (the core already answered 483 when
 * it was 0) and keeps every header not named here, byte for byte (From, To, Call-ID, CSeq, Authorization,
 * Proxy-Authorization, Require, User-Agent, body, FWD-1).
 */
export interface RelayInstructions {
  /** New Request-URI: `upstreamUri` (FWD-1). */
  requestUri: string;
  /** Next hop `host:port[;transport=x]` (`upstreamOutboundProxy`); absent: resolve {@link requestUri}. */
  outboundProxy?: string;
  /** Headers to remove entirely (case-insensitive, compact forms included): Route, Expires, Path, Contact… */
  removeHeaders: string[];
  /** Headers to add after the removal, in order (e.g. one `Contact` per relayed contact, `Expires: 0`). */
  addHeaders: HeaderField[];
  /** Path values to add topmost, before any Path left (FWD-5). */
  prependPath: string[];
  /** The Supported header's new value when it changed (FWD-5 adds `path`); absent: unchanged. */
  supported?: string;
  /** The socket to send from (FWD-9): `advertisedUri`. */
  sourceUri: string;
}

/**
 * Opaque to the gateway: handed back with the upstream reply (register-reply). Names the pending relay
 * recorded in the AoR record (GEN-7).
 */
export interface RelayContext {
  version: typeof CONTRACT_VERSION;
  aor: string;
  relayId: string;
  mode: Mode;
}

/** The outcome of `register` for one REGISTER. */
export type RegisterDecision =
  /** Answer locally (REG-7 query, M1/M2 absorb): the 200 OK, sent after the commit. */
  | { kind: 'absorb'; response: LocalResponse }
  /** Relay upstream as described, after the pending relay is committed (GEN-7). */
  | { kind: 'forward'; relay: RelayInstructions; context: RelayContext }
  /** Answer locally with an error (ERR-6); nothing was changed. */
  | { kind: 'reject'; response: LocalResponse };

/** How a relay's client transaction ended (RPL-1, RPL-9). */
export type UpstreamOutcome =
  | {
      kind: 'final';
      /** Final status code (200–699). */
      status: number;
      /** Raw Contact values of the response, one per contact. */
      contacts: string[];
      /** Raw Expires header value, if present (RPL-4). */
      expires?: string;
      /** GEN-2: arrival time of the response. */
      receivedAtMs: number;
      /** First transmission time of the relay (sentAt). */
      sentAtMs: number;
    }
  /** No final response within `upstreamTimeout` (RPL-9: 504). */
  | { kind: 'timeout'; atMs: number }
  /** The relay could not be sent or its connection failed (RPL-9: 503). */
  | { kind: 'transport-error'; atMs: number };

/** Input of `register-reply`. */
export interface RegisterReplyRequest {
  version: typeof CONTRACT_VERSION;
  context: RelayContext;
  outcome: UpstreamOutcome;
}

/** The outcome of `register-reply`. */
export type RegisterReplyDecision =
  /**
   * RPL-7: send upstream's 2xx to the UA with {@link removeHeaders} removed and {@link addHeaders}
   * appended (one Contact listing the AoR's valid bindings, Path per PTH-5). Sent after the commit.
   */
  | { kind: 'rewrite'; removeHeaders: string[]; addHeaders: HeaderField[] }
  /** RPL-1: the non-2xx was (or is) forwarded unchanged. Nothing else to do. */
  | { kind: 'forward-unchanged' }
  /** Answer the UA with this local response (RPL-9 504/503, RPL-10 503, or a stale relay). */
  | { kind: 'respond'; response: LocalResponse };

/** Input of `lookup` (LKP-1, LKP-2). */
export interface LookupRequest {
  version: typeof CONTRACT_VERSION;
  method: string;
  requestUri: string;
  /** Top Route value, if any (path insertion and Record-Route tokens, LKP-2, LKP-9). */
  topRoute?: string;
  /** Whether To carries a tag (in-dialog). */
  hasToTag: boolean;
  /** The flow the request came on; its remote address decides trust (LKP-1, LKP-10). */
  flow: Flow;
  receivedAtMs: number;
}

/** One branch target (LKP-4). */
export interface LookupTarget {
  /** The binding's original contact URI: the new Request-URI. */
  requestUri: string;
  /** Route set: the binding's stored Path, in order. */
  routeSet: string[];
  /** The binding's current flow (PTH-3); `flow.gatewayId` owns it. */
  flow: Flow;
  gatewayId: string;
  /** q as text (absent means 1.0, LKP-5). */
  q?: string;
  aor: string;
  contactId: string;
}

/** The outcome of `lookup`. */
export type LookupDecision =
  /** Fork: groups in descending q, each group in parallel (LKP-5); the top Route is removed if asked (LKP-2). */
  | { kind: 'targets'; groups: LookupTarget[][]; removeTopRoute: boolean }
  /** Relay upstream (device-originated request elsewhere, LKP-1), Request-URI unchanged, with Record-Route (LKP-9). */
  | { kind: 'relay-upstream' }
  /** Answer locally (403, 404, 480; OPTIONS 200). */
  | { kind: 'respond'; response: LocalResponse };
