/**
 * Splitting of comma-separated header field values (RFC 3261 §7.3.1).
 */
import { trimLws } from './chars';

/**
 * Splits a header field value at the commas that separate list elements: commas inside a quoted-string
 * or between `<` and `>` do not count. Elements are trimmed of LWS; empty elements are dropped.
 *
 * @example
 * ```ts
 * splitHeaderValues('"Doe, J" <sip:j@x;a=1,2>, sip:k@y'); // ['"Doe, J" <sip:j@x;a=1,2>', 'sip:k@y']
 * ```
 */
export function splitHeaderValues(value: string): string[] {
  if (value.indexOf(',') < 0) {
    const single = trimLws(value);
    return single.length === 0 ? [] : [single];
  }
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 92) i++;
      else if (c === 34) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 60) {
      inAngle = true;
    } else if (c === 62) {
      inAngle = false;
    } else if (c === 44 && !inAngle) {
      const part = trimLws(value.slice(start, i));
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  const last = trimLws(value.slice(start));
  if (last.length > 0) out.push(last);
  return out;
}
