/**
 * Header parameters (RFC 3261 §25.1 generic-param), shared by name-addr, Via and other headers.
 */
import { GEN_VALUE, TOKEN, endOfQuoted, equalsLower, inTable, skipLws, unquote } from './chars';
import { SipParseError } from './errors';

/** A header parameter in wire order; `value` is kept as on the wire (a quoted-string keeps its quotes). */
export interface HeaderParam {
  name: string;
  value?: string;
}

/**
 * Parses `*( SEMI generic-param )` starting at `i` of `text` (at a `;` or at the end).
 *
 * @throws SipParseError naming `what` when a parameter is malformed or text follows the parameters.
 */
export function parseHeaderParams(text: string, i: number, what: string): HeaderParam[] {
  const params: HeaderParam[] = [];
  i = skipLws(text, i);
  while (i < text.length) {
    if (text.charCodeAt(i) !== 59) throw new SipParseError(`Bad ${what}: unexpected text after value`, { code: 'bad-header', header: what });
    i = skipLws(text, i + 1);
    const ns = i;
    while (i < text.length && inTable(TOKEN, text.charCodeAt(i))) i++;
    if (i === ns) throw new SipParseError(`Bad ${what}: empty parameter name`, { code: 'bad-header', header: what });
    const name = text.slice(ns, i);
    i = skipLws(text, i);
    if (text.charCodeAt(i) === 61) {
      i = skipLws(text, i + 1);
      const vs = i;
      if (text.charCodeAt(i) === 34) {
        const q = endOfQuoted(text, i);
        if (q < 0) throw new SipParseError(`Bad ${what}: unterminated quoted parameter`, { code: 'bad-header', header: what });
        i = q + 1;
      } else {
        while (i < text.length && inTable(GEN_VALUE, text.charCodeAt(i))) i++;
        if (i === vs) throw new SipParseError(`Bad ${what}: empty parameter value`, { code: 'bad-header', header: what });
      }
      params.push({ name, value: text.slice(vs, i) });
      i = skipLws(text, i);
    } else {
      params.push({ name });
    }
  }
  return params;
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
  const lower = name.toLowerCase();
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
