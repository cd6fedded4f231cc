/**
 * The stateless REGISTER checks, REG-1 steps 3–7, and the REG-3 expiry of each contact.
 *
 * @remarks
 * Steps 1–2 (size, parse, Via/From/To/Call-ID/CSeq) ran in the gateway. These run before any state is
 * read or changed (REG-1), in the order of REG-1; the first failure is the answer (ERR-6).
 */
import { MAX_EXPIRES_SEC, type MidRegistrarConfig } from '../config';
import type { RegisterRequest } from '../contract';
import { REGISTRAR_ERRORS, type RegistrarErrorRow, badHeaderError } from '../errors';
import { parseDeltaSeconds } from '../../../sip-gateway/src/sip/chars';
import { type HeaderParam, findParam } from '../../../sip-gateway/src/sip/header-params';
import { type NameAddrParts, splitNameAddr } from '../../../sip-gateway/src/sip/name-addr';
import { splitHeaderValues } from '../../../sip-gateway/src/sip/split';
import { type SipUri, parseUri, unescapeUriPart, uriParam, urisEqual } from '../../../sip-gateway/src/sip/uri';

/** One contact of a REGISTER after the checks. */
export interface CheckedContact {
  /** The contact URI as the UA sent it (inside the angle brackets). */
  uriText: string;
  uri: SipUri;
  displayName?: string;
  /** Header parameters as sent (FWD-5 relays them, except `expires`). */
  params: HeaderParam[];
  /** q as sent (validated, REG-1 step 6). */
  q?: string;
  /** r of REG-3 (raw, capped at 2^32 − 1). */
  rawExpiresSec: number;
  /** e of REG-3. */
  expiresSec: number;
}

/** A REGISTER that passed the stateless checks. */
export interface CheckedRegister {
  /** `user@host` (REG-2). */
  aor: string;
  /** From and To URIs as received (stored for DRG-5). */
  fromUri: string;
  toUri: string;
  /** What the Contact header holds: nothing (query, REG-7), `*` (REG-8) or contacts (duplicates resolved, REG-5). */
  kind: 'query' | 'star' | 'contacts';
  contacts: CheckedContact[];
  /** Path values as received, top first (PTH-5). */
  path: string[];
  /** Whether the UA indicated `Supported: path`. */
  supportsPath: boolean;
}

/** The result of the stateless checks: the checked REGISTER or the ERR-6 row of the first failure. */
export type CheckResult =
  | { ok: true; register: CheckedRegister }
  | { ok: false; error: RegistrarErrorRow; extraHeaders?: [string, string][] };

/** RFC 3261 §25.1 qvalue: `0` … `1` with at most three decimals (REG-1 step 6). */
const QVALUE_PATTERN = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

function fail(error: RegistrarErrorRow, extraHeaders?: [string, string][]): CheckResult {
  return extraHeaders === undefined ? { ok: false, error } : { ok: false, error, extraHeaders };
}

/**
 * REG-2: the AoR of a To header value: the To URI (sip or sips) with the user part un-escaped, the
 * host lower-cased, port and parameters dropped.
 *
 * @returns `{ user, host }`, or undefined when the To URI is not a sip/sips URI or has no user.
 * @example
 * ```ts
 * aorOf('<sip:Alice@EXAMPLE.com:5070;x=1>'); // { user: 'Alice', host: 'example.com' }
 * ```
 */
export function aorOf(to: string): { user: string; host: string } | undefined {
  const parts = toAor(to);
  return parts === undefined ? undefined : { user: parts.user, host: parts.host };
}

/** {@link aorOf} with the To URI text, so the checks split the To value once. */
function toAor(to: string): { user: string; host: string; uriText: string } | undefined {
  let uriText: string;
  let uri: SipUri;
  try {
    uriText = splitNameAddr(to, 'To').uriText;
    uri = parseUri(uriText);
  } catch {
    return undefined;
  }
  const user = uri.user === undefined ? '' : unescapeUriPart(uri.user);
  if (user.length === 0) return undefined;
  return { user, host: uri.host.toLowerCase(), uriText };
}

/**
 * REG-3: r and e of one contact.
 *
 * @param param the contact's `expires` parameter (undefined when absent or not an unsigned integer).
 * @param header the Expires header value (validated), if present.
 */
export function contactExpiry(
  config: MidRegistrarConfig,
  param: number | undefined,
  header: number | undefined,
): { rawExpiresSec: number; expiresSec: number } {
  const raw = rawContactExpiry(config, param, header);
  return { rawExpiresSec: raw, expiresSec: clampedExpiry(config, raw) };
}

/** REG-3: r, the requested expiry capped at 2^32 − 1. */
function rawContactExpiry(config: MidRegistrarConfig, param: number | undefined, header: number | undefined): number {
  return Math.min(param ?? header ?? config.defaultExpiresSec, MAX_EXPIRES_SEC);
}

/** REG-3: e of r, within [minExpires, maxExpires] where set; 0 stays 0 (a removal). */
function clampedExpiry(config: MidRegistrarConfig, raw: number): number {
  if (raw === 0) return 0;
  let e = raw;
  if (config.minExpiresSec > 0) e = Math.max(e, config.minExpiresSec);
  if (config.maxExpiresSec > 0) e = Math.min(e, config.maxExpiresSec);
  return e;
}

function splitContactValues(values: readonly string[]): string[] {
  // The gateway's codec already gives one value per contact: one value is split on its own (no copy).
  if (values.length === 1) return splitHeaderValues(values[0]);
  const items: string[] = [];
  for (const value of values) for (const item of splitHeaderValues(value)) items.push(item);
  return items;
}

/** The Path of every REGISTER without one; frozen, so a caller that tried to modify it would throw. */
const NO_PATH: string[] = Object.freeze([]) as unknown as string[];

/**
 * Runs REG-1 steps 3–7 on a REGISTER.
 *
 * @returns the checked REGISTER, or the ERR-6 row (with Min-Expires / Unsupported where due) to answer.
 */
export function checkRegister(config: MidRegistrarConfig, request: RegisterRequest): CheckResult {
  // Step 3: AoR (REG-2).
  const aorParts = toAor(request.to);
  if (aorParts === undefined) return fail(REGISTRAR_ERRORS.aorUnparsable);
  const { user, host, uriText: toUri } = aorParts;
  if (
    user.length > config.maxUsernameLength ||
    host.length > config.maxDomainLength ||
    user.length + 1 + host.length > config.maxAorLength
  ) {
    return fail(REGISTRAR_ERRORS.aorTooLong);
  }
  let fromUri: string;
  try {
    fromUri = splitNameAddr(request.from, 'From').uriText;
  } catch {
    return fail(badHeaderError('From'));
  }

  // Step 4: every Contact parses and every contact URI is short enough (Δ OpenSIPS skips the first).
  const items = splitContactValues(request.contacts);
  const parsed: { parts: NameAddrParts; uri: SipUri }[] = [];
  let star = false;
  for (const item of items) {
    if (item === '*') {
      star = true;
      continue;
    }
    let parts: NameAddrParts;
    let uri: SipUri;
    try {
      parts = splitNameAddr(item, 'Contact');
      uri = parseUri(parts.uriText);
    } catch {
      return fail(REGISTRAR_ERRORS.badContact);
    }
    if (parts.uriText.length > config.maxContactLength) return fail(REGISTRAR_ERRORS.contactTooLong);
    parsed.push({ parts, uri });
  }

  // Step 5: star rules (REG-8), then the Expires header.
  let headerExpires: number | undefined;
  const expiresText = request.expires?.trim();
  if (expiresText !== undefined) {
    const n = parseDeltaSeconds(expiresText);
    headerExpires = n < 0 ? undefined : n;
  }
  if (star) {
    if (items.length > 1) return fail(REGISTRAR_ERRORS.starWithOtherContacts);
    if (headerExpires !== 0) return fail(REGISTRAR_ERRORS.starExpiresNotZero);
  }
  if (expiresText !== undefined && headerExpires === undefined) return fail(REGISTRAR_ERRORS.badExpires);

  // Step 6: q values.
  for (const { parts } of parsed) {
    const q = findParam(parts.params, 'q');
    if (q !== undefined && (q === null || !QVALUE_PATTERN.test(q))) return fail(REGISTRAR_ERRORS.badQ);
  }

  // Step 7: Path (PTH-5), then REG-4.
  for (let i = 0; i < request.path.length; i++) {
    let uri: SipUri;
    try {
      uri = parseUri(splitNameAddr(request.path[i], 'Path').uriText);
    } catch {
      return fail(REGISTRAR_ERRORS.badPath);
    }
    // PTH-5: the first Path URI must be a loose router (RFC 3327 §5.3, RFC 3261 §16.12.1.1).
    if (i === 0 && uriParam(uri, 'lr') === undefined) return fail(REGISTRAR_ERRORS.badPath);
  }
  let supportsPath = false;
  for (const tag of request.supported) if (tag.toLowerCase() === 'path') supportsPath = true;
  if (config.pathMode === 'strict' && request.path.length > 0 && !supportsPath) {
    return fail(REGISTRAR_ERRORS.pathNotSupported, [['Unsupported', 'path']]);
  }

  const contacts: CheckedContact[] = [];
  for (const { parts, uri } of parsed) {
    const param = findParam(parts.params, 'expires');
    const paramSec = typeof param === 'string' ? parseDeltaSeconds(param) : -1;
    const rawExpiresSec = rawContactExpiry(config, paramSec < 0 ? undefined : paramSec, headerExpires);
    const q = findParam(parts.params, 'q');
    const contact: CheckedContact = {
      uriText: parts.uriText,
      uri,
      params: parts.params,
      rawExpiresSec,
      expiresSec: clampedExpiry(config, rawExpiresSec),
    };
    if (parts.displayName !== undefined) contact.displayName = parts.displayName;
    if (typeof q === 'string') contact.q = q;
    contacts.push(contact);
  }
  // REG-4 (RFC 3261 §10.3 step 7): with tooBrief = reject, any 0 < r < minExpires is refused whole.
  if (
    config.tooBrief === 'reject' &&
    config.minExpiresSec > 0 &&
    contacts.some((c) => c.rawExpiresSec > 0 && c.rawExpiresSec < config.minExpiresSec)
  ) {
    return fail(REGISTRAR_ERRORS.intervalTooBrief, [['Min-Expires', String(config.minExpiresSec)]]);
  }

  return {
    ok: true,
    register: {
      aor: `${user}@${host}`,
      fromUri,
      toUri,
      kind: star ? 'star' : contacts.length === 0 ? 'query' : 'contacts',
      contacts: lastOccurrences(contacts),
      // The checked REGISTER's own copy (bindings keep it); most REGISTERs have no Path and share one frozen empty list.
      path: request.path.length === 0 ? NO_PATH : [...request.path],
      supportsPath,
    },
  };
}

/** REG-5: a URI named twice in one REGISTER: the last wins (kept at its last position). */
function lastOccurrences(contacts: CheckedContact[]): CheckedContact[] {
  if (contacts.length < 2) return contacts;
  const kept: CheckedContact[] = [];
  for (let i = 0; i < contacts.length; i++) if (!namedLater(contacts, i)) kept.push(contacts[i]);
  return kept;
}

function namedLater(contacts: readonly CheckedContact[], i: number): boolean {
  for (let j = i + 1; j < contacts.length; j++) if (urisEqual(contacts[j].uri, contacts[i].uri)) return true;
  return false;
}
