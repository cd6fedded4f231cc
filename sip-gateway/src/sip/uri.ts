/**
 * SIP and SIPS URIs (RFC 3261 §19.1): parsing, formatting and the comparison rules of §19.1.4.
 */
import { CommonWords } from './common-words';
import { ScratchList } from './scratch-list';
import { HNV, HOST, IPV6, PARAM, PASSWORD, USER, allIn, equalsLower, inTable, isHex, codeAt, lowerAscii } from './chars';
import { SipParseError } from './errors';

/** A URI parameter, in wire order; `value` is undefined for a flag such as `;lr`. */
export interface UriParam {
  name: string;
  value?: string;
}

/** A parsed `sip:` or `sips:` URI. Texts are kept as on the wire (escaped, original case). */
export interface SipUri {
  scheme: 'sip' | 'sips';
  /** User part as on the wire, still %-escaped; see {@link unescapeUriPart}. */
  user?: string;
  password?: string;
  /** Host name, IPv4 address, or IPv6 reference including its brackets. */
  host: string;
  port?: number;
  params: UriParam[];
  /** Everything after `?`, without the `?`. */
  headers?: string;
}

/** A URI of another scheme (e.g. `tel:`), kept opaque (RFC 3261 §19.1.1 absoluteURI). */
export interface AbsoluteUri {
  scheme: string;
  opaque: string;
}

function bad(text: string, why: string): SipParseError {
  return new SipParseError(`Bad URI (${why}): ${text.length > 80 ? text.slice(0, 80) + '…' : text}`, { code: 'bad-uri' });
}

/** True when the text starts with `sip:` or `sips:` (any case). */
export function isSipUriText(text: string): boolean {
  const c = text.indexOf(':');
  if (c !== 3 && c !== 4) return false;
  const scheme = text.slice(0, c).toLowerCase();
  return scheme === 'sip' || scheme === 'sips';
}

/**
 * Parses an absolute URI of any scheme without interpreting it: `scheme ":" opaque`, with no
 * whitespace, quotes or angle brackets (RFC 3261 §25.1 absoluteURI, RFC 2396 §3.1).
 *
 * @throws SipParseError when the text is not an absolute URI.
 */
export function parseAbsoluteUri(text: string): AbsoluteUri {
  const c = text.indexOf(':');
  if (c <= 0) throw bad(text, 'no scheme');
  const first = text.charCodeAt(0) | 0x20;
  if (first < 97 || first > 122) throw bad(text, 'scheme');
  for (let i = 1; i < c; i++) {
    const ch = text.charCodeAt(i);
    const alpha = (ch | 0x20) >= 97 && (ch | 0x20) <= 122;
    if (!alpha && !(ch >= 48 && ch <= 57) && ch !== 43 && ch !== 45 && ch !== 46) throw bad(text, 'scheme');
  }
  if (c === text.length - 1) throw bad(text, 'empty');
  for (let i = c + 1; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch <= 32 || ch >= 127 || ch === 34 || ch === 60 || ch === 62) throw bad(text, 'character');
    if (ch === 37 && !(isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)))) throw bad(text, 'escape');
  }
  return { scheme: text.slice(0, c).toLowerCase(), opaque: text.slice(c + 1) };
}

function parseHost(text: string, host: string): void {
  if (host.length === 0) throw bad(text, 'empty host');
  if (host.charCodeAt(0) === 91) {
    if (host.charCodeAt(host.length - 1) !== 93 || host.length < 4) throw bad(text, 'IPv6 reference');
    const inner = host.slice(1, -1);
    if (!allIn(IPV6, inner) || inner.indexOf(':') < 0 || inner.indexOf('%') >= 0) throw bad(text, 'IPv6 reference');
    for (let i = 0; i < inner.length; i++) {
      const ch = inner.charCodeAt(i);
      if (ch !== 58 && ch !== 46 && !isHex(ch)) throw bad(text, 'IPv6 reference');
    }
    return;
  }
  // hostname: labels of alphanum and "-", neither empty nor starting or ending with "-"; a fully qualified
  // name may end with "." (RFC 3261 §25.1). One pass, no allocation: this runs for every URI parsed.
  let prev = 46;
  for (let i = 0; i < host.length; i++) {
    const ch = host.charCodeAt(i);
    if (!inTable(HOST, ch)) throw bad(text, 'host');
    if (ch === 46 ? prev === 46 || prev === 45 : ch === 45 && prev === 46) throw bad(text, 'host');
    prev = ch;
  }
  if (prev === 45) throw bad(text, 'host');
}

/** Parameters as they are read, copied out at exact size (see {@link ScratchList}). */
const scratch = new ScratchList<UriParam>();

/**
 * URI parameter names and values of nearly every Contact, Route and Request-URI (RFC 3261 §19.1.1
 * transport-param, lr-param, user-param; RFC 5626 ob), as written in lower case.
 */
const COMMON_URI_WORDS = new CommonWords(['transport', 'udp', 'tcp', 'tls', 'sctp', 'ws', 'wss', 'lr', 'ob', 'user', 'phone', 'ip', 'maddr', 'ttl', 'method']);

/**
 * Parses a `sip:` or `sips:` URI (RFC 3261 §19.1.1). The scheme is case-insensitive; everything
 * else keeps its case and escaping. The result's `params` may be shared: treat it as read-only.
 *
 * @throws SipParseError for another scheme or a malformed URI.
 * @example
 * ```ts
 * parseUri('sip:alice@example.com:5070;transport=tcp').port; // 5070
 * ```
 */
export function parseUri(text: string): SipUri {
  // Scheme compared by char codes: no substring, no case folding allocation.
  const c0 = text.charCodeAt(0) | 0x20;
  const c1 = text.charCodeAt(1) | 0x20;
  const c2 = text.charCodeAt(2) | 0x20;
  if (c0 !== 115 || c1 !== 105 || c2 !== 112) throw bad(text, 'scheme');
  let scheme: 'sip' | 'sips';
  let i: number;
  if (text.charCodeAt(3) === 58) {
    scheme = 'sip';
    i = 4;
  } else if ((text.charCodeAt(3) | 0x20) === 115 && text.charCodeAt(4) === 58) {
    scheme = 'sips';
    i = 5;
  } else {
    throw bad(text, 'scheme');
  }
  const n = text.length;
  let user: string | undefined;
  let password: string | undefined;

  // userinfo ends at the first "@": it cannot appear unescaped in user, password, host or params.
  const at = text.indexOf('@', i);
  if (at >= 0) {
    let pc = text.indexOf(':', i);
    if (pc > at) pc = -1;
    const userEnd = pc >= 0 ? pc : at;
    if (userEnd === i || !validRange(USER, text, i, userEnd)) throw bad(text, 'user');
    user = text.slice(i, userEnd);
    if (pc >= 0) {
      if (!validRange(PASSWORD, text, pc + 1, at)) throw bad(text, 'password');
      password = text.slice(pc + 1, at);
    }
    i = at + 1;
  }

  // hostport
  let end = i;
  if (codeAt(text, i) === 91) {
    end = text.indexOf(']', i);
    if (end < 0) throw bad(text, 'IPv6 reference');
    end++;
  } else {
    while (end < n) {
      const ch = text.charCodeAt(end);
      if (ch === 58 || ch === 59 || ch === 63) break;
      end++;
    }
  }
  const host = text.slice(i, end);
  parseHost(text, host);
  i = end;
  let port: number | undefined;
  if (codeAt(text, i) === 58) {
    let value = 0;
    let digits = 0;
    i++;
    while (i < n) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 5 || value > 65535) throw bad(text, 'port');
    port = value;
  }

  // uri-parameters: names and values validated in place, then cut once
  let count = 0;
  while (codeAt(text, i) === 59) {
    const ns = i + 1;
    let j = ns;
    while (j < n) {
      const ch = text.charCodeAt(j);
      if (ch === 61 || ch === 59 || ch === 63) break;
      j++;
    }
    if (j === ns || !validRange(PARAM, text, ns, j)) throw bad(text, 'parameter');
    const name = COMMON_URI_WORDS.at(text, ns, j) ?? text.slice(ns, j);
    if (codeAt(text, j) === 61) {
      const vs = j + 1;
      let k = vs;
      while (k < n) {
        const ch = text.charCodeAt(k);
        if (ch === 59 || ch === 63) break;
        k++;
      }
      if (k === vs || !validRange(PARAM, text, vs, k)) throw bad(text, 'parameter');
      scratch.set(count++, { name, value: COMMON_URI_WORDS.at(text, vs, k) ?? text.slice(vs, k) });
      i = k;
    } else {
      scratch.set(count++, { name });
      i = j;
    }
  }

  // headers = "?" header *( "&" header )
  let headers: string | undefined;
  if (codeAt(text, i) === 63) {
    headers = text.slice(i + 1);
    for (const h of headers.split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0 || !allIn(HNV, h.slice(0, eq)) || !allIn(HNV, h.slice(eq + 1))) throw bad(text, 'headers');
    }
    i = n;
  }
  if (i !== n) throw bad(text, 'trailing characters');
  const params = scratch.copy(count);
  // One literal with every field (absent ones undefined): all parsed URIs share one hidden class.
  return { scheme, user, password, host, port, params, headers };
}

/** True when `text[start, end)` is all in `t` with valid %HH escapes. */
function validRange(t: Uint8Array, text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) return false;
    if (c === 37 && !(isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)))) return false;
  }
  return true;
}

/** Formats a URI back to its wire form; `formatUri(parseUri(s))` is `s` with the scheme lower-cased. */
export function formatUri(uri: SipUri): string {
  let s = uri.scheme + ':';
  if (uri.user !== undefined) {
    s += uri.user;
    if (uri.password !== undefined) s += ':' + uri.password;
    s += '@';
  }
  s += uri.host;
  if (uri.port !== undefined) s += ':' + uri.port;
  for (const p of uri.params) s += p.value === undefined ? ';' + p.name : ';' + p.name + '=' + p.value;
  if (uri.headers !== undefined) s += '?' + uri.headers;
  return s;
}

/**
 * A URI parameter by case-insensitive name: its value, `null` when present without a value,
 * `undefined` when absent.
 */
export function uriParam(uri: SipUri, name: string): string | null | undefined {
  const lower = lowerAscii(name);
  for (const p of uri.params) {
    if (equalsLower(p.name, lower)) return p.value ?? null;
  }
  return undefined;
}

/**
 * Undoes %HH escaping (RFC 3261 §19.1.2). Escaped bytes are decoded as UTF-8; a sequence that is not
 * valid UTF-8 decodes to U+FFFD, which still compares consistently.
 */
export function unescapeUriPart(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 128) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parameters that, when present in either URI, must be present and equal in both (RFC 3261 §19.1.4). */
const STRICT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

function paramMap(uri: SipUri): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const p of uri.params) {
    const name = unescapeUriPart(p.name).toLowerCase();
    if (!m.has(name)) m.set(name, p.value === undefined ? null : unescapeUriPart(p.value).toLowerCase());
  }
  return m;
}

function headerMap(uri: SipUri): Map<string, string> {
  const m = new Map<string, string>();
  if (uri.headers === undefined) return m;
  for (const h of uri.headers.split('&')) {
    const eq = h.indexOf('=');
    m.set(unescapeUriPart(h.slice(0, eq)).toLowerCase(), unescapeUriPart(h.slice(eq + 1)));
  }
  return m;
}

/**
 * True when both URIs spell the same parameters in the same order and the same headers: the
 * parameter and header rules of RFC 3261 §19.1.4 then hold whatever the parameters are.
 */
function sameParamsAndHeaders(a: SipUri, b: SipUri): boolean {
  if (a.headers !== b.headers || a.params.length !== b.params.length) return false;
  for (let i = 0; i < a.params.length; i++) {
    if (a.params[i].name !== b.params[i].name || a.params[i].value !== b.params[i].value) return false;
  }
  return true;
}

/**
 * Compares two SIP/SIPS URIs by the rules of RFC 3261 §19.1.4: schemes must match; user and password
 * compare case-sensitively after unescaping; hosts case-insensitively; an absent port does not match an
 * explicit one; `user`, `ttl`, `method`, `maddr` and `transport` must match when present in either;
 * other parameters only when present in both; headers must all match.
 */
export function urisEqual(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if ((a.user === undefined) !== (b.user === undefined)) return false;
  if (a.user !== undefined && unescapeUriPart(a.user) !== unescapeUriPart(b.user as string)) return false;
  if ((a.password === undefined) !== (b.password === undefined)) return false;
  if (a.password !== undefined && unescapeUriPart(a.password) !== unescapeUriPart(b.password as string)) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  if (a.port !== b.port) return false;
  // The common case (a device's refresh repeats its Contact): no maps to build.
  if (sameParamsAndHeaders(a, b)) return true;
  const pa = paramMap(a);
  const pb = paramMap(b);
  for (const name of STRICT_PARAMS) {
    if (pa.get(name) !== pb.get(name)) return false;
  }
  for (const [name, value] of pa) {
    if (pb.has(name) && pb.get(name) !== value) return false;
  }
  const ha = headerMap(a);
  const hb = headerMap(b);
  if (ha.size !== hb.size) return false;
  for (const [name, value] of ha) {
    if (hb.get(name) !== value) return false;
  }
  return true;
}
