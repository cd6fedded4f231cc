/**
 * Errors of the SIP codec.
 *
 * @remarks
 * A transport answers an unparsable message with 400 when Via, From, To, Call-ID and CSeq were readable
 * (SPEC ERR-3), with 513 when it was too large (SPEC ERR-4), and drops it otherwise. The error carries
 * what is needed to make that decision and to build the answer without parsing the message again.
 */

/** Base class of every error the SIP codec throws. */
export class SipError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SipError';
  }
}

/** The header fields a stateless 400/513 needs (RFC 3261 §8.2.6), exactly as they were received. */
export interface SipResponseContext {
  /** Every Via field value, top first (already comma-split). */
  via: string[];
  from: string;
  to: string;
  callId: string;
  cseq: string;
}

/** What went wrong, for metrics and for the status code of the answer. */
export type SipParseErrorCode =
  | 'message-too-large'
  | 'too-many-headers'
  | 'line-too-long'
  | 'bad-start-line'
  | 'unsupported-version'
  | 'bad-header'
  | 'missing-header'
  | 'bad-content-length'
  | 'bad-uri'
  | 'malformed';

/** Options of {@link SipParseError}. */
export interface SipParseErrorOptions extends ErrorOptions {
  code?: SipParseErrorCode;
  /** The header whose value was bad or missing (canonical name, e.g. `CSeq`). */
  header?: string;
  responseContext?: SipResponseContext;
}

/**
 * A message, header or URI is not valid SIP (RFC 3261 §25), or exceeds the configured limits.
 *
 * @example
 * ```ts
 * try { parseMessage(datagram); } catch (err) {
 *   if (err instanceof SipParseError && err.answerable) reply(err.statusCode, err.responseContext);
 * }
 * ```
 */
export class SipParseError extends SipError {
  /** Human-readable reason, suitable for a log line or a reason phrase. */
  readonly reason: string;
  readonly code: SipParseErrorCode;
  /** Canonical name of the offending header, when one is to blame. */
  readonly header: string | undefined;
  /** True when {@link SipParseError.responseContext} is set: the sender can be answered. */
  readonly answerable: boolean;
  readonly responseContext: SipResponseContext | undefined;

  constructor(reason: string, options: SipParseErrorOptions = {}) {
    super(reason, options);
    this.name = 'SipParseError';
    this.reason = reason;
    this.code = options.code ?? 'malformed';
    this.header = options.header;
    this.responseContext = options.responseContext;
    this.answerable = options.responseContext !== undefined;
  }

  /**
   * The status code to answer with: 513 for a message over the size limit (RFC 3261 §21.5.14),
   * 505 for an unsupported SIP version (§21.5.9), 400 otherwise (§21.4.1).
   */
  get statusCode(): number {
    if (this.code === 'message-too-large') return 513;
    if (this.code === 'unsupported-version') return 505;
    return 400;
  }

  /** A copy of this error that also carries the context to answer with. */
  withResponseContext(responseContext: SipResponseContext): SipParseError {
    return new SipParseError(this.reason, { code: this.code, header: this.header, responseContext, cause: this.cause });
  }
}
