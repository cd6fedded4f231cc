/**
 * Header field names: case-insensitive matching, compact forms (RFC 3261 §7.3.3, §20) and which
 * headers hold comma-separated lists (RFC 3261 §7.3.1).
 */
import { isToken } from './chars';

/** Compact form → canonical lower-case long name (RFC 3261 §20 and the IANA SIP header registry). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', v: 'via', f: 'from', t: 'to', l: 'content-length', k: 'supported',
  e: 'content-encoding', c: 'content-type', s: 'subject', o: 'event', u: 'allow-events', r: 'refer-to',
  x: 'session-expires', y: 'identity', b: 'referred-by', a: 'accept-contact', j: 'reject-contact',
  d: 'request-disposition',
};

/** Canonical spelling used when this codec writes a header name. */
const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  'content-id': 'Content-ID', 'rack': 'RAck', 'rseq': 'RSeq', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match',
};

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1). Headers not listed here, such as
 * WWW-Authenticate, Authorization or Date, are never split: their values contain commas of their own.
 */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'supported', 'require', 'proxy-require',
  'unsupported', 'allow', 'allow-events', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'alert-info', 'call-info', 'error-info', 'in-reply-to', 'warning', 'reason',
  'p-associated-uri', 'security-client', 'security-server', 'security-verify', 'accept-contact',
  'reject-contact', 'request-disposition',
]);

/**
 * Spellings seen in nearly every message, grouped by length, with their keys. The indexer matches these
 * in place (no substring, no hashing) before falling back to {@link headerKey}.
 */
const COMMON_SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ...['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires',
    'Route', 'Record-Route', 'Path', 'Supported', 'Require', 'Allow', 'User-Agent', 'Server', 'Authorization',
    'Proxy-Authorization', 'WWW-Authenticate', 'Proxy-Authenticate', 'Date', 'Accept', 'Event', 'Subject', 'Min-Expires',
    'Allow-Events', 'Service-Route', 'Timestamp', 'Warning', 'Reason', 'Retry-After', 'P-Asserted-Identity', 'Call-Id',
    'Cseq', 'Content-length', 'Content-type', 'Max-forwards', 'Record-route', 'User-agent']
    .map((n): readonly [string, string] => [n, n.toLowerCase()]),
  ...Object.entries(COMPACT),
];
const SPELLINGS_BY_LENGTH: Array<Array<readonly [string, string]>> = [];
for (const entry of COMMON_SPELLINGS) (SPELLINGS_BY_LENGTH[entry[0].length] ??= []).push(entry);

/**
 * The `[spelling, key]` of a common header name written at `text[start, end)`, or undefined. The
 * returned spelling is a shared constant equal to the text, so callers need not slice it.
 */
export function commonHeaderAt(text: string, start: number, end: number): readonly [string, string] | undefined {
  const candidates = SPELLINGS_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  for (const entry of candidates) if (text.startsWith(entry[0], start)) return entry;
  return undefined;
}

const MAX_CACHED_NAMES = 512;
const keyCache = new Map<string, string>();

/**
 * The canonical key of a header name: lower-case long form. Returns undefined when the name is not a
 * token. Results are cached by exact spelling, since a handful of spellings make up nearly all traffic;
 * the cache is bounded so that hostile input cannot grow it.
 */
export function headerKey(name: string): string | undefined {
  const cached = keyCache.get(name);
  if (cached !== undefined) return cached;
  if (!isToken(name)) return undefined;
  const lower = name.toLowerCase();
  const key = lower.length === 1 && Object.hasOwn(COMPACT, lower) ? COMPACT[lower] : lower;
  if (keyCache.size < MAX_CACHED_NAMES) keyCache.set(name, key);
  return key;
}

/** The name to write for a key: `Call-ID`, `CSeq`, `WWW-Authenticate`, else each word capitalised. */
export function canonicalHeaderName(key: string): string {
  // Own properties only: a key such as `constructor` must not find Object.prototype members.
  const special = Object.hasOwn(CANONICAL, key) ? CANONICAL[key] : undefined;
  if (special !== undefined) return special;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/** True when values of this header (by key) are comma-separated lists. */
export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
