/**
 * name-addr / addr-spec values of From, To, Contact, Route, Record-Route, Path (RFC 3261 §20, §25.1).
 */
import { TOKEN, endOfQuoted, inTable, isLws, quote, skipLws, trimLws, codeAt } from './chars';
import { SipParseError } from './errors';
import { type HeaderParam, findParam, formatHeaderParams, parseHeaderParams } from './header-params';
import { type SipUri, formatUri, parseUri } from './uri';

export type { HeaderParam } from './header-params';

/** A parsed name-addr or addr-spec with its header parameters. */
export interface NameAddr {
  /** Display name, with the quotes and quoted-pairs of a quoted-string undone. */
  displayName?: string;
  uri: SipUri;
  /** Header parameters (e.g. tag, expires, q), in wire order, values as on the wire. */
  params: HeaderParam[];
}

/** The parts of a name-addr before its URI is interpreted; any URI scheme is accepted. */
export interface NameAddrParts {
  displayName?: string;
  uriText: string;
  params: HeaderParam[];
}

function unescapeQuotedPairs(s: string): string {
  return s.indexOf('\\') < 0 ? s : s.replace(/\\(.)/gs, '$1');
}

function nameAddrError(what: string, why: string): SipParseError {
  return new SipParseError(`Bad ${what}: ${why}`, { code: 'bad-header', header: what });
}

/** How many recent successful splits {@link splitNameAddr} remembers. */
const RECENT = 4;
const recentTexts: string[] = new Array<string>(RECENT).fill('');
const recentParts: Array<NameAddrParts | undefined> = new Array<NameAddrParts | undefined>(RECENT).fill(undefined);
let nextRecent = 0;

/**
 * Splits a name-addr or addr-spec into display name, URI text and header parameters without parsing the
 * URI. For an addr-spec, the `;` parameters belong to the header (RFC 3261 §20), so the URI ends at the
 * first `;`.
 *
 * The results of the last few splits are returned again for the same text, so they may be shared
 * between callers: treat them as read-only. A REGISTER's From and To are split by validate() (for the
 * tags) and again by the registrar's checks; reusing the results saves 3 of ~7 splits per absorbed
 * REGISTER (~0.4 µs and ~0.5 KB, absorb-path micro-benchmark).
 *
 * @throws SipParseError naming `what` when the structure is malformed.
 */
export function splitNameAddr(text: string, what = 'name-addr'): NameAddrParts {
  for (let k = 0; k < RECENT; k++) {
    if (recentTexts[k] === text) {
      const hit = recentParts[k];
      if (hit !== undefined) return hit;
    }
  }
  const parts = splitNameAddrText(text, what);
  recentTexts[nextRecent] = text;
  recentParts[nextRecent] = parts;
  nextRecent = (nextRecent + 1) % RECENT;
  return parts;
}

function splitNameAddrText(text: string, what: string): NameAddrParts {
  let i = skipLws(text, 0);
  let displayName: string | undefined;
  if (codeAt(text, i) === 34) {
    const q = endOfQuoted(text, i);
    if (q < 0) throw nameAddrError(what, 'unterminated display name');
    displayName = unescapeQuotedPairs(text.slice(i + 1, q));
    i = skipLws(text, q + 1);
    if (codeAt(text, i) !== 60) throw nameAddrError(what, '"<" expected after display name');
  } else {
    // A token display name is tokens separated by LWS; anything else means an addr-spec.
    let j = i;
    while (j < text.length && (inTable(TOKEN, text.charCodeAt(j)) || isLws(text.charCodeAt(j)))) j++;
    if (codeAt(text, j) === 60) {
      const name = trimLws(text.slice(i, j));
      if (name.length > 0) displayName = name;
      i = j;
    }
  }
  if (codeAt(text, i) === 60) {
    const close = text.indexOf('>', i + 1);
    if (close < 0) throw nameAddrError(what, 'missing ">"');
    const uriText = text.slice(i + 1, close);
    const params = parseHeaderParams(text, close + 1, what);
    return displayName === undefined ? { uriText, params } : { displayName, uriText, params };
  }
  let end = i;
  while (end < text.length && text.charCodeAt(end) !== 59 && !isLws(text.charCodeAt(end))) end++;
  if (end === i) throw nameAddrError(what, 'empty');
  // RFC 3261 §20: a URI with a comma, question mark or semicolon must be in angle brackets.
  if (text.indexOf('?', i) >= 0 && text.indexOf('?', i) < end) throw nameAddrError(what, 'URI with headers must be in angle brackets');
  return { uriText: text.slice(i, end), params: parseHeaderParams(text, end, what) };
}

/**
 * Parses a name-addr (`"Bob" <sip:bob@example.com>;tag=1`) or addr-spec (`sip:bob@example.com;tag=1`)
 * whose URI is sip or sips.
 *
 * @throws SipParseError when the value or its URI is malformed or not sip/sips.
 * @example
 * ```ts
 * headerParam(parseNameAddr('<sip:a@b>;tag=x'), 'tag'); // 'x'
 * ```
 */
export function parseNameAddr(text: string, what = 'name-addr'): NameAddr {
  const parts = splitNameAddr(text, what);
  let uri: SipUri;
  try {
    uri = parseUri(parts.uriText);
  } catch (err) {
    throw new SipParseError(`Bad ${what}: ${(err as SipParseError).reason}`, { code: 'bad-header', header: what, cause: err });
  }
  return { displayName: parts.displayName, uri, params: parts.params };
}

/** Formats a name-addr; the URI is always in angle brackets and a display name always quoted. */
export function formatNameAddr(na: NameAddr): string {
  const name = na.displayName === undefined ? '' : quote(na.displayName) + ' ';
  return name + '<' + formatUri(na.uri) + '>' + formatHeaderParams(na.params);
}

/**
 * A header parameter by case-insensitive name: value as on the wire, `null` when present without a value,
 * `undefined` when absent.
 */
export function headerParam(na: { params: readonly HeaderParam[] }, name: string): string | null | undefined {
  return findParam(na.params, name);
}
