/**
 * Header parameters (RFC 3261 §25.1 generic-param), shared by name-addr, Via and other headers.
 */
import { CommonWords } from './common-words';
import { ScratchList } from './scratch-list';
import { GEN_VALUE, TOKEN, endOfQuoted, equalsLower, isLws, unquote, codeAt, lowerAscii } from './chars';
import { SipParseError } from './errors';

/** A header parameter in wire order; `value` is kept as on the wire (a quoted-string keeps its quotes). */
export interface HeaderParam {
  name: string;
  value?: string;
}

/** Parameter names of nearly every Via, From, To and Contact. */
const COMMON_PARAMS = new CommonWords(['tag', 'branch', 'rport', 'received', 'expires', 'q', 'reg-id', '+sip.instance', 'lr', 'maddr', 'ttl', 'alias']);

/** Parameters as they are read, copied out at exact size (see {@link ScratchList}). */
const scratch = new ScratchList<HeaderParam>();

/**
 * Parses `*( SEMI generic-param )` starting at `i` of `text` (at a `;` or at the end).
 *
 * A result without parameters is shared and frozen (see {@link ScratchList}): treat results as read-only.
 *
 * @throws SipParseError naming `what` when a parameter is malformed or text follows the parameters.
 */
export function parseHeaderParams(text: string, i: number, what: string): HeaderParam[] {
  let count = 0;
  const n = text.length;
  // Hot path of every Via, From, To and Contact: table lookups inlined, one slice per name and value.
  while (i < n && isLws(text.charCodeAt(i))) i++;
  while (i < n) {
    if (codeAt(text, i) !== 59) throw paramError(what, 'unexpected text after value');
    i++;
    while (i < n && isLws(text.charCodeAt(i))) i++;
    const ns = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN[c] !== 1) break;
      i++;
    }
    if (i === ns) throw paramError(what, 'empty parameter name');
    const name = COMMON_PARAMS.at(text, ns, i) ?? text.slice(ns, i);
    while (i < n && isLws(text.charCodeAt(i))) i++;
    if (codeAt(text, i) !== 61) {
      scratch.set(count++, { name });
      continue;
    }
    i++;
    while (i < n && isLws(text.charCodeAt(i))) i++;
    const vs = i;
    if (codeAt(text, i) === 34) {
      const q = endOfQuoted(text, i);
      if (q < 0) throw paramError(what, 'unterminated quoted parameter');
      i = q + 1;
    } else {
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c >= 128 || GEN_VALUE[c] !== 1) break;
        i++;
      }
      if (i === vs) throw paramError(what, 'empty parameter value');
    }
    scratch.set(count++, { name, value: text.slice(vs, i) });
    while (i < n && isLws(text.charCodeAt(i))) i++;
  }
  return scratch.copy(count);
}

function paramError(what: string, why: string): SipParseError {
  return new SipParseError(`Bad ${what}: ${why}`, { code: 'bad-header', header: what });
}

/** Formats parameters back to `;name=value…`. */
export function formatHeaderParams(params: readonly HeaderParam[]): string {
  let s = '';
  for (const p of params) s += p.value === undefined ? ';' + p.name : ';' + p.name + '=' + p.value;
  return s;
}

/**
 * A parameter by case-insensitive name: its value as on the wire, `null` when present without a value,
 * `undefined` when absent.
 */
export function findParam(params: readonly HeaderParam[], name: string): string | null | undefined {
  const lower = lowerAscii(name);
  for (const p of params) {
    if (equalsLower(p.name, lower)) return p.value ?? null;
  }
  return undefined;
}

/** A parameter value with the quotes of a quoted-string removed, or undefined when absent or valueless. */
export function unquotedParam(params: readonly HeaderParam[], name: string): string | undefined {
  const v = findParam(params, name);
  return v === null || v === undefined ? undefined : unquote(v);
}
