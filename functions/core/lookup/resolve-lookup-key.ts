/**
 * LKP-1 classification and LKP-2 resolution of a request from upstream (or a device) into the key the
 * store reads by, before any state is read.
 *
 * @remarks
 * The store resolves a contact id to its AoR through an index, so resolution is split in two: this
 * module turns the request into a {@link LookupKey} without state, {@link resolveTargets} turns the key
 * plus the AoR record into targets or a status.
 */
import type { MidRegistrarConfig } from '../config';
import type { LookupRequest } from '../contract';
import { verifyFlowToken, verifyPathToken } from '../token';
import { type SipUri, parseUri, unescapeUriPart, uriParam } from '../../../sip-gateway/src/sip/uri';
import { parseNameAddr } from '../../../sip-gateway/src/sip/name-addr';
import { compileTrustedSources, isTrustedSource, type TrustedSources } from './trusted-sources';

/** The configuration keys lookup reads. */
export type LookupConfig = Pick<
  MidRegistrarConfig,
  | 'mode'
  | 'insertion'
  | 'contactIdIn'
  | 'contactIdParam'
  | 'atEscape'
  | 'advertisedUri'
  | 'trustedUpstreamSources'
  | 'tokenSecret'
>;

/** What to read from the store for a request from a trusted source, or what to answer without reading. */
export type LookupKey =
  /** Contact insertion, modes 0/1: the binding with this contact id (LKP-2). */
  | { kind: 'contact-id'; contactId: string; removeTopRoute: boolean }
  /** Mode 2: every valid binding of the AoR; `incarnationId` when the Request-URI carried one (LKP-2). */
  | { kind: 'aor'; aor: string; incarnationId?: string; removeTopRoute: boolean }
  /** Path insertion: the binding of this AoR whose contact equals `requestUri` (REG-5, LKP-2). */
  | { kind: 'path-token'; aor: string; requestUri: string; removeTopRoute: true }
  /** OPTIONS to the mid-registrar itself, without user part: 200 (LKP-1). */
  | { kind: 'options-ok' }
  /** Answer with this ERR-6 row: 403 (LKP-10) or 404 (LKP-1); nothing is read. */
  | { kind: 'reject'; error: 'forbidden' | 'notFound' }
  /** Device-originated request for elsewhere: relay upstream, Request-URI unchanged, with Record-Route (LKP-1, LKP-9). */
  | { kind: 'relay-upstream' }
  /** Not a lookup: REGISTER, CANCEL, ACK, in-dialog requests, or a request loose-routed by our Record-Route (LKP-9). */
  | { kind: 'not-lookup' };

/** Methods LKP-1 excludes from lookup (REGISTER is decided by the register core, CANCEL/ACK follow their INVITE). */
const NOT_LOOKED_UP = new Set(['REGISTER', 'CANCEL', 'ACK']);
const CONTACT_ID_PATTERN = /^(0|[1-9]\d{0,18})$/;
const CONTACT_ID_LIMIT = 2n ** 63n;

const trustedCache = new WeakMap<readonly string[], TrustedSources>();
const advertisedCache = new Map<string, SipUri>();

/** `advertisedUri` parsed once per value (lookup runs for every initial request). */
function advertisedOf(config: LookupConfig): SipUri {
  let advertised = advertisedCache.get(config.advertisedUri);
  if (advertised === undefined) {
    advertised = parseUri(config.advertisedUri);
    advertisedCache.set(config.advertisedUri, advertised);
  }
  return advertised;
}

function trustedSources(config: LookupConfig): TrustedSources {
  let trusted = trustedCache.get(config.trustedUpstreamSources);
  if (trusted === undefined) {
    trusted = compileTrustedSources(config.trustedUpstreamSources);
    trustedCache.set(config.trustedUpstreamSources, trusted);
  }
  return trusted;
}

function defaultPort(uri: SipUri): number {
  const transport = uriParam(uri, 'transport');
  return uri.scheme === 'sips' || (typeof transport === 'string' && transport.toLowerCase() === 'tls') ? 5061 : 5060;
}

/** Whether `uri` addresses the mid-registrar: host and port of `advertisedUri` (port defaults per RFC 3263). */
function isOurs(uri: SipUri, advertised: SipUri): boolean {
  return (
    uri.host.toLowerCase() === advertised.host.toLowerCase() &&
    (uri.port ?? defaultPort(uri)) === (advertised.port ?? defaultPort(advertised))
  );
}

function tryParseUri(text: string): SipUri | undefined {
  try {
    return parseUri(text.trim());
  } catch {
    return undefined;
  }
}

function tryParseRoute(text: string): SipUri | undefined {
  try {
    return parseNameAddr(text, 'Route').uri;
  } catch {
    return undefined;
  }
}

/** A FWD-4 contact id: decimal, no leading zeros, below 2^63. */
function asContactId(text: string | null | undefined): string | undefined {
  if (typeof text !== 'string' || !CONTACT_ID_PATTERN.test(text)) return undefined;
  return BigInt(text) < CONTACT_ID_LIMIT ? text : undefined;
}

/**
 * Mode 2, LKP-2: the AoR from the user part of our aggregated contact (inverse of FWD-6): `%XX` is
 * un-escaped first, then `atEscape` becomes `@`. The last occurrence is taken because a host never
 * contains `atEscape` characters that a user part may, and the host is lower-cased as in REG-2.
 */
export function aorFromEscapedUser(escapedUser: string, atEscape: string): string | undefined {
  const unescaped = unescapeUriPart(escapedUser);
  let aor = unescaped;
  if (!unescaped.includes('@')) {
    const separator = unescapeUriPart(atEscape);
    const at = unescaped.lastIndexOf(separator);
    if (at < 0) return undefined;
    aor = `${unescaped.slice(0, at)}@${unescaped.slice(at + separator.length)}`;
  }
  const at = aor.lastIndexOf('@');
  if (at <= 0 || at === aor.length - 1) return undefined;
  return `${aor.slice(0, at)}@${aor.slice(at + 1).toLowerCase()}`;
}

/** LKP-2 for a Request-URI addressed to us: the key, or undefined when it names no contact of ours. */
function keyFromOurRequestUri(config: LookupConfig, requestUri: SipUri, removeTopRoute: boolean): LookupKey | undefined {
  if (config.mode === 2) {
    if (requestUri.user === undefined) return undefined;
    const aor = aorFromEscapedUser(requestUri.user, config.atEscape);
    if (aor === undefined) return undefined;
    const incarnationId = uriParam(requestUri, config.contactIdParam);
    if (incarnationId === undefined) return { kind: 'aor', aor, removeTopRoute };
    // A contactIdParam that is no id at all cannot equal the open incarnation's: nothing valid matches (LKP-3).
    return { kind: 'aor', aor, incarnationId: incarnationId ?? '', removeTopRoute };
  }
  if (config.insertion === 'path') return undefined;
  const contactId = asContactId(config.contactIdIn === 'param' ? uriParam(requestUri, config.contactIdParam) : requestUri.user);
  return contactId === undefined ? undefined : { kind: 'contact-id', contactId, removeTopRoute };
}

/**
 * Classifies an initial request and resolves it to a store key (SPEC LKP-1, LKP-2, LKP-10).
 *
 * Tokens are verified under `config.tokenSecret` (PTH-7); without one no token verifies (403).
 *
 * @returns what to read, or what to answer without reading.
 * @example
 * ```ts
 * const key = resolveLookupKey(config, request);
 * if (key.kind === 'contact-id') record = await store.getByContactId(key.contactId);
 * ```
 */
export function resolveLookupKey(config: LookupConfig, request: LookupRequest): LookupKey {
  if (request.hasToTag || NOT_LOOKED_UP.has(request.method.toUpperCase())) return { kind: 'not-lookup' };
  const advertised = advertisedOf(config);
  const trusted = isTrustedSource(trustedSources(config), request.flow.remoteAddress, request.flow.remotePort);
  const requestUri = tryParseUri(request.requestUri);

  let removeTopRoute = false;
  const route = request.topRoute === undefined ? undefined : tryParseRoute(request.topRoute);
  if (route !== undefined && isOurs(route, advertised)) {
    removeTopRoute = true;
    const tokenSecret = config.tokenSecret;
    if (route.user !== undefined && tokenSecret !== undefined) {
      const aor = verifyPathToken(tokenSecret, route.user);
      if (aor !== undefined && config.insertion === 'path' && config.mode !== 2) {
        // LKP-2 path insertion: the token names the AoR, the Request-URI picks the binding; LKP-10 for untrusted.
        if (!trusted) return { kind: 'reject', error: 'forbidden' };
        return { kind: 'path-token', aor, requestUri: request.requestUri, removeTopRoute: true };
      }
      // A Record-Route token on an initial request is loose routing through us (LKP-9), not a lookup.
      if (aor === undefined && verifyFlowToken(tokenSecret, route.user) !== undefined) return { kind: 'not-lookup' };
      // LKP-10: a token failing its MAC (or a Path token we do not use in this mode) is forbidden.
      return { kind: 'reject', error: 'forbidden' };
    }
    // LKP-10: a token we cannot check (no tokenSecret) is treated as failing its MAC.
    if (route.user !== undefined) return { kind: 'reject', error: 'forbidden' };
  }

  if (requestUri !== undefined && isOurs(requestUri, advertised)) {
    const key = keyFromOurRequestUri(config, requestUri, removeTopRoute);
    // LKP-10: a mid-registrar contact may be reached only from upstream. Relaying it upstream would
    // send it back here, so an untrusted source gets 403 whether or not the record is still retained.
    if (key !== undefined) return trusted ? key : { kind: 'reject', error: 'forbidden' };
    // LKP-1: OPTIONS to the mid-registrar itself (keep-alive pings) is answered 200.
    if (request.method.toUpperCase() === 'OPTIONS' && requestUri.user === undefined) return { kind: 'options-ok' };
  }
  // LKP-1: not for one of our contacts: upstream's get 404, a device's go upstream.
  return trusted ? { kind: 'reject', error: 'notFound' } : { kind: 'relay-upstream' };
}
