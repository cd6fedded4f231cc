/**
 * Character classes of the RFC 3261 §25.1 grammar, as lookup tables indexed by char code (0–127).
 * Tables beat regular expressions on the per-character hot paths of the parser.
 */

function table(chars: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const UNRESERVED_MARK = "-_.!~*'()";
/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", true);
/** user = 1*( unreserved / escaped / user-unreserved ), user-unreserved = & = + $ , ; ? / */
export const USER = table(UNRESERVED_MARK + '&=+$,;?/%', true);
/** password = *( unreserved / escaped / & = + $ , ) */
export const PASSWORD = table(UNRESERVED_MARK + '&=+$,%', true);
/** paramchar = param-unreserved / unreserved / escaped, param-unreserved = [ ] / : & + $ */
export const PARAM = table(UNRESERVED_MARK + '[]/:&+$%', true);
/** hname / hvalue = hnv-unreserved / unreserved / escaped, hnv-unreserved = [ ] / ? : + $ */
export const HNV = table(UNRESERVED_MARK + '[]/?:+$%', true);
/** hostname characters; IPv4 addresses are a subset. */
export const HOST = table('-.', true);
/** Characters inside an IPv6 reference, between the brackets. */
export const IPV6 = table(':.', true);
/** gen-value of a header parameter: token / host / quoted-string (brackets and colons for IPv6 hosts). */
export const GEN_VALUE = table("-.!%*_+`'~[]:", true);

/** True when `code` is in `t` (codes ≥ 128 never are). */
export function inTable(t: Uint8Array, code: number): boolean {
  return code < 128 && t[code] === 1;
}

/**
 * The char code at `i`, or -1 past the end. Reading past the end with charCodeAt yields NaN, which makes
 * V8 leave its fast path; parsers peek one past a value all the time, so they peek through this.
 */
export function codeAt(text: string, i: number): number {
  return i < text.length ? text.charCodeAt(i) : -1;
}

/** True for SP and HTAB. */
export function isWsp(code: number): boolean {
  return code === 32 || code === 9;
}

/** True for SP, HTAB, CR and LF: the characters LWS is made of once folding was undone. */
export function isLws(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

/** True for an ASCII hex digit. */
export function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** True when every character of `s` is in `t` and every `%` starts a valid escape (RFC 3261 §25.1 escaped). */
export function allIn(t: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) return false;
    if (c === 37 && !(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2)))) return false;
  }
  return true;
}

/** True when `s` is a non-empty token (where `%` is an ordinary character, not an escape). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!inTable(TOKEN, s.charCodeAt(i))) return false;
  return true;
}

/** Index of the first non-LWS character at or after `i`. */
export function skipLws(s: string, i: number): number {
  while (i < s.length && isLws(s.charCodeAt(i))) i++;
  return i;
}

/** True when `a` equals `lower` ignoring ASCII case; `lower` must already be lower-case. No allocation. */
export function equalsLower(a: string, lower: string): boolean {
  if (a.length !== lower.length) return false;
  for (let i = 0; i < a.length; i++) {
    let c = a.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** `s` in lower case, returning `s` itself (no allocation) when it has no ASCII capitals. */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

/** `s` without leading and trailing LWS. */
export function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isLws(s.charCodeAt(a))) a++;
  while (b > a && isLws(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Parses a non-negative decimal integer made only of digits, or returns -1. Rejects more than
 * `maxDigits` digits so that a number can never lose precision.
 */
export function parseDigits(s: string, maxDigits: number): number {
  if (s.length === 0 || s.length > maxDigits) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Parses delta-seconds (1*DIGIT of any length), clamping at `max`; returns -1 when `s` is not all digits.
 * RFC 3261 §20.19 treats values beyond 2³²−1 as 2³²−1, so long digit strings are valid, not errors.
 */
export function parseDeltaSeconds(s: string, max = 4294967295): number {
  if (s.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    if (n <= max) n = n * 10 + c;
  }
  return n > max ? max : n;
}

/**
 * Index of the closing `"` of the quoted-string that opens at `start`, honouring `\` quoted-pairs
 * (RFC 3261 §25.1), or -1 when it is not closed.
 */
export function endOfQuoted(s: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    const esc = s.indexOf('\\', from);
    if (esc < 0 || esc > q) return q;
    from = esc + 2;
  }
}

/** The content of a quoted-string with quoted-pairs undone; `s` must start and end with `"`. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return s;
  const inner = s.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\(.)/gs, '$1');
}

/** `s` as a quoted-string, escaping `"` and `\` (RFC 3261 §25.1 quoted-pair). */
export function quote(s: string): string {
  return '"' + s.replace(/(["\\])/g, '\\$1') + '"';
}
