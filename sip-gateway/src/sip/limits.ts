/**
 * Size limits the parser and the stream framer enforce. Exceeding any of them is a {@link SipParseError}
 * (SPEC ERR-4: a message over the size limit is answered with 513 or dropped).
 */
export interface SipLimits {
  /** Whole message: start line, headers and body. */
  maxMessageBytes: number;
  /** Header lines, counting each folded continuation line. */
  maxHeaderLines: number;
  /** One physical line, without its line terminator. */
  maxLineBytes: number;
}

/** Defaults: 64 KiB − 1 (the largest UDP payload), 200 header lines, 8 KiB per line. */
export const DEFAULT_SIP_LIMITS: Readonly<SipLimits> = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaderLines: 200,
  maxLineBytes: 8192,
});
