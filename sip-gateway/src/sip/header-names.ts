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
  const key = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (keyCache.size < MAX_CACHED_NAMES) keyCache.set(name, key);
  return key;
}

/** The name to write for a key: `Call-ID`, `CSeq`, `WWW-Authenticate`, else each word capitalised. */
export function canonicalHeaderName(key: string): string {
  const special = CANONICAL[key];
  if (special !== undefined) return special;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/** True when values of this header (by key) are comma-separated lists. */
export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
