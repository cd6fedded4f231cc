/**
 * Errors of the decision core, and the one table of locally generated SIP errors (SPEC ERR-1, ERR-2, ERR-6).
 *
 * @remarks
 * The gateway answers some checks itself (REG-1 steps 1–2, ERR-3, ERR-4, Max-Forwards, decision
 * timeouts); it builds those answers with {@link registrarErrorResponse} too, so every local error of the
 * system carries the same status, reason and `P-Registrar-Error` text, and every 5xx `Retry-After`.
 * The reason phrase is the error text, as OpenSIPS' registrar sends it.
 */
import type { HeaderField, LocalResponse } from './contract';

/** Base class of every error the decision core throws. */
export class MidRegistrarError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MidRegistrarError';
  }
}

/**
 * Invalid configuration (CFG-2, CFG-4). The message is one line and names the key.
 */
export class ConfigError extends MidRegistrarError {
  /** The offending key, e.g. `mode` or `upstreamAuth.username`. */
  readonly key: string;

  constructor(key: string, problem: string, options?: ErrorOptions) {
    super(`invalid configuration key "${key}": ${problem}`.replace(/[\r\n]+/g, ' '), options);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** A row of the ERR-6 table. */
export interface RegistrarErrorRow {
  status: number;
  /** `P-Registrar-Error` text, also the reason phrase. */
  text: string;
}

/**
 * ERR-6: locally generated errors, by condition. Header-specific rows are built by
 * {@link missingHeaderError} and {@link badHeaderError}.
 */
export const REGISTRAR_ERRORS = {
  aorUnparsable: { status: 400, text: 'Error while parsing AOR' },
  /** Δ OpenSIPS answers 500. */
  aorTooLong: { status: 400, text: 'Address Of Record too long' },
  badContact: { status: 400, text: 'Bad Contact' },
  contactTooLong: { status: 400, text: 'Contact/received too long' },
  starExpiresNotZero: { status: 400, text: '* used in contact and expires is not zero' },
  starWithOtherContacts: { status: 400, text: '* used in contact and more than 1 contact' },
  badExpires: { status: 400, text: 'Invalid Expires header' },
  badQ: { status: 400, text: 'Invalid q param in contact' },
  badPath: { status: 400, text: 'Path parse error' },
  pathNotSupported: { status: 420, text: 'No support for found Path indicated' },
  intervalTooBrief: { status: 423, text: 'Interval too brief' },
  badCseq: { status: 400, text: 'Invalid CSeq number' },
  tooManyContacts: { status: 503, text: 'Too many registered contacts' },
  tooManyHops: { status: 483, text: 'Too many hops' },
  serviceUnavailable: { status: 503, text: 'Service unavailable' },
  upstreamTimeout: { status: 504, text: 'Upstream timeout' },
  internalError: { status: 500, text: 'Internal error' },
  messageTooLarge: { status: 513, text: 'Message too large' },
  forbidden: { status: 403, text: 'Forbidden' },
  notFound: { status: 404, text: 'Not found' },
  noValidBinding: { status: 480, text: 'No valid binding' },
  flowUnavailable: { status: 480, text: 'Flow unavailable' },
} as const satisfies Record<string, RegistrarErrorRow>;

/** A condition of the ERR-6 table. */
export type RegistrarErrorKind = keyof typeof REGISTRAR_ERRORS;

/** ERR-6 first row: `<Header> header not found` (400). */
export function missingHeaderError(header: string): RegistrarErrorRow {
  return { status: 400, text: `${header} header not found` };
}

/** ERR-6 first row: `Bad <Header> header` (400). */
export function badHeaderError(header: string): RegistrarErrorRow {
  return { status: 400, text: `Bad ${header} header` };
}

/**
 * Builds the local response for an ERR-6 row: `P-Registrar-Error` (ERR-1) first, then
 * `Retry-After: <retryAfter>` for every 5xx (ERR-2), then `extraHeaders` (Min-Expires, Unsupported).
 *
 * @param retryAfterMs `retryAfter` from the configuration (CFG-1), sent in whole seconds.
 * @example
 * ```ts
 * registrarErrorResponse(REGISTRAR_ERRORS.tooManyContacts, 30_000, tag);
 * // 503 Too many registered contacts, P-Registrar-Error: Too many registered contacts, Retry-After: 30
 * ```
 */
export function registrarErrorResponse(
  row: RegistrarErrorRow,
  retryAfterMs: number,
  toTag: string,
  extraHeaders: HeaderField[] = [],
): LocalResponse {
  const headers: HeaderField[] = [['P-Registrar-Error', row.text]];
  if (row.status >= 500 && row.status < 600) headers.push(['Retry-After', String(Math.ceil(retryAfterMs / 1000))]);
  headers.push(...extraHeaders);
  return { status: row.status, reason: row.text, headers, toTag };
}
