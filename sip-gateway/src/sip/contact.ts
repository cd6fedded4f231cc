/**
 * The Contact header field (RFC 3261 §20.10) and its registration parameters (§10.2.1.2, RFC 5626 §4.2).
 */
import { parseDeltaSeconds, parseDigits, unquote } from './chars';
import { SipParseError } from './errors';
import { findParam } from './header-params';
import { type NameAddr, parseNameAddr } from './name-addr';
import { splitHeaderValues } from './split';

/** The Contact header fields of a message: either the single `*` or a list of name-addrs. */
export type ContactList = { star: true } | { star: false; contacts: NameAddr[] };

/**
 * Parses the Contact field values of a message (each may hold several comma-separated contacts).
 * `*` is accepted only as the sole contact (RFC 3261 §10.2.2); whether Expires is 0 is the registrar's
 * check (SPEC REG-8).
 *
 * @throws SipParseError for a malformed contact, or `*` mixed with other contacts.
 */
export function parseContacts(values: readonly string[]): ContactList {
  const items: string[] = [];
  for (const v of values) for (const item of splitHeaderValues(v)) items.push(item);
  let star = false;
  for (const item of items) if (item === '*') star = true;
  if (star) {
    if (items.length !== 1) {
      throw new SipParseError('* used in contact and more than 1 contact', { code: 'bad-header', header: 'Contact' });
    }
    return { star: true };
  }
  const contacts: NameAddr[] = [];
  for (const item of items) contacts.push(parseNameAddr(item, 'Contact'));
  return { star: false, contacts };
}

/**
 * The `expires` parameter of a contact as delta-seconds, or undefined when absent or not an unsigned
 * integer (then the Expires header applies, RFC 3261 §10.3 step 6). Values above 2³²−1 give 2³²−1
 * (SPEC REG-3).
 */
export function contactExpiresSec(contact: NameAddr): number | undefined {
  const v = findParam(contact.params, 'expires');
  if (v === null || v === undefined) return undefined;
  const n = parseDeltaSeconds(v);
  return n < 0 ? undefined : n;
}

/**
 * The `q` parameter as a number, or undefined when absent.
 *
 * @throws SipParseError when present but not a qvalue (`0`…`1` with at most 3 decimals, RFC 3261 §25.1).
 */
export function contactQ(contact: NameAddr): number | undefined {
  const v = findParam(contact.params, 'q');
  if (v === undefined) return undefined;
  if (v === null || !isQValue(v)) {
    throw new SipParseError('Invalid q param in contact', { code: 'bad-header', header: 'Contact' });
  }
  return Number(v);
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 §25.1). */
function isQValue(v: string): boolean {
  const first = v.charCodeAt(0);
  if ((first !== 48 && first !== 49) || v.length > 5) return false;
  if (v.length === 1) return true;
  if (v.charCodeAt(1) !== 46) return false;
  for (let i = 2; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (first === 49 ? c !== 48 : c < 48 || c > 57) return false;
  }
  return true;
}

/** The `+sip.instance` parameter without its quotes (RFC 5626 §4.1), or undefined. */
export function contactInstance(contact: NameAddr): string | undefined {
  const v = findParam(contact.params, '+sip.instance');
  return v === null || v === undefined ? undefined : unquote(v);
}

/** The `reg-id` parameter (RFC 5626 §4.2), or undefined when absent or not an unsigned integer. */
export function contactRegId(contact: NameAddr): number | undefined {
  const v = findParam(contact.params, 'reg-id');
  if (v === null || v === undefined) return undefined;
  const n = parseDigits(v, 10);
  return n < 0 ? undefined : n;
}
