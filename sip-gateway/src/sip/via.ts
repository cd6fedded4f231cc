/**
 * The Via header field (RFC 3261 §20.42, §18.2.1; rport from RFC 3581).
 */
import { TOKEN, equalsLower, inTable, parseDigits, skipLws, codeAt } from './chars';
import { SipParseError } from './errors';
import { type HeaderParam, formatHeaderParams, parseHeaderParams } from './header-params';

/**
 * One via-parm. `params` is the source of truth for formatting; `branch`, `received` and `rport` are
 * read from it for convenience.
 */
export interface Via {
  /** protocol-name "/" protocol-version, e.g. `SIP/2.0`. */
  protocol: string;
  /** Upper-case transport, e.g. `UDP`, `TCP`, `TLS`. */
  transport: string;
  /** sent-by host (an IPv6 reference keeps its brackets). */
  host: string;
  port?: number;
  params: HeaderParam[];
  branch?: string;
  received?: string;
  /** RFC 3581: `null` when `;rport` is present without a value. */
  rport?: number | null;
}

function fail(why: string): SipParseError {
  return new SipParseError(`Bad Via header: ${why}`, { code: 'bad-header', header: 'Via' });
}

const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'];

/** The upper-case transport of `text[start, end)`, reusing a constant for the usual ones. */
function knownTransport(text: string, start: number, end: number): string {
  for (const t of TRANSPORTS) if (end - start === t.length && text.startsWith(t, start)) return t;
  return text.slice(start, end).toUpperCase();
}

function readToken(text: string, i: number): number {
  while (i < text.length && inTable(TOKEN, text.charCodeAt(i))) i++;
  return i;
}

/**
 * Parses one via-parm (a single Via value; split a multi-value field first with `splitHeaderValues`).
 * LWS is allowed around the `/` of sent-protocol and around `:` of sent-by (RFC 3261 §25.1).
 *
 * @throws SipParseError when the value is malformed.
 * @example
 * ```ts
 * parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport').rport; // null
 * ```
 */
export function parseVia(text: string): Via {
  let i = skipLws(text, 0);
  let protocol: string | undefined;
  let transport = '';
  if (text.startsWith('SIP/2.0/', i)) {
    // Nearly every Via: sent-protocol written without LWS, so no pieces need joining.
    const s = i + 8;
    const e = readToken(text, s);
    if (e > s) {
      protocol = 'SIP/2.0';
      transport = knownTransport(text, s, e);
      i = e;
    }
  }
  if (protocol === undefined) {
    const parts: string[] = [];
    for (let k = 0; k < 3; k++) {
      if (k > 0) {
        if (codeAt(text, i) !== 47) throw fail('sent-protocol');
        i = skipLws(text, i + 1);
      }
      const s = i;
      i = readToken(text, i);
      if (i === s) throw fail('sent-protocol');
      parts.push(text.slice(s, i));
      i = skipLws(text, i);
    }
    protocol = parts[0] + '/' + parts[1];
    transport = parts[2].toUpperCase();
  }
  i = skipLws(text, i);
  const hs = i;
  let host: string;
  if (codeAt(text, i) === 91) {
    const close = text.indexOf(']', i);
    if (close < 0) throw fail('IPv6 sent-by');
    host = text.slice(hs, close + 1);
    i = close + 1;
  } else {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 45 || c === 46)) break;
      i++;
    }
    host = text.slice(hs, i);
  }
  if (host.length === 0) throw fail('sent-by host');
  i = skipLws(text, i);
  let port: number | undefined;
  if (codeAt(text, i) === 58) {
    i = skipLws(text, i + 1);
    // Digits read in place (no slice): port = 1*DIGIT, at most 5 of them below 65536.
    const ps = i;
    let value = 0;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) value = value * 10 + text.charCodeAt(i++) - 48;
    if (i === ps || i - ps > 5 || value > 65535) throw fail('sent-by port');
    port = value;
  }
  const params = parseHeaderParams(text, i, 'Via');
  let branch: string | undefined;
  let received: string | undefined;
  let rport: number | null | undefined;
  for (const p of params) {
    // Common names are shared constants (see parseHeaderParams): the identity test skips the case-folding compare.
    if (p.name === 'branch' || equalsLower(p.name, 'branch')) {
      if (p.value === undefined) throw fail('branch without value');
      branch ??= p.value;
    } else if (p.name === 'received' || equalsLower(p.name, 'received')) {
      if (p.value === undefined) throw fail('received without value');
      received ??= p.value;
    } else if (rport === undefined && (p.name === 'rport' || equalsLower(p.name, 'rport'))) {
      const n = p.value === undefined ? null : parseDigits(p.value, 5);
      if (n !== null && (n < 0 || n > 65535)) throw fail('rport');
      rport = n;
    }
  }
  // One object literal with every field, absent ones undefined, so all Vias share one hidden class.
  const via: Via = { protocol, transport, host, port, params, branch, received, rport };
  return via;
}

/** Formats a Via value from `protocol`, `transport`, `host`, `port` and `params`. */
export function formatVia(via: Via): string {
  const port = via.port === undefined ? '' : ':' + via.port;
  return via.protocol + '/' + via.transport + ' ' + via.host + port + formatHeaderParams(via.params);
}
