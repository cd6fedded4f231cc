/**
 * Cuts SIP messages out of a stream transport (TCP, TLS) by Content-Length (RFC 3261 §18.3), and
 * recognises the CRLF keep-alives of RFC 5626 §3.5.1 between messages.
 */
import { parseDigits, trimLws } from './chars';
import { SipParseError, type SipParseErrorCode } from './errors';
import { headerKey } from './header-names';
import { DEFAULT_SIP_LIMITS, type SipLimits } from './limits';
import { parseMessage } from './message';

/** What the framer found in the bytes pushed so far. */
export type FramerEvent =
  /** One complete message (start line, headers, body), ready for `parseMessage`. */
  | { kind: 'message'; data: Buffer }
  /** A CRLFCRLF ping: answer with a single CRLF pong (RFC 5626 §3.5.1). */
  | { kind: 'keepalive-ping' }
  /** A lone CRLF: the pong to a ping we sent. */
  | { kind: 'keepalive-pong' }
  /**
   * Framing failed. A fatal error means the stream cannot be resynchronised: answer (513 for an over-size
   * message when `error.answerable`) and close the connection.
   */
  | { kind: 'error'; error: SipParseError; fatal: boolean };

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Incremental framer for one stream connection.
 *
 * @example
 * ```ts
 * const framer = new SipStreamFramer();
 * socket.on('data', (chunk) => {
 *   for (const ev of framer.push(chunk)) {
 *     if (ev.kind === 'message') handle(parseMessage(ev.data));
 *     else if (ev.kind === 'keepalive-ping') socket.write('\r\n');
 *     else if (ev.kind === 'error' && ev.fatal) socket.destroy();
 *   }
 * });
 * ```
 */
export class SipStreamFramer {
  private pending: Buffer = Buffer.alloc(0);
  /** Where to resume the search for the end of the headers, so that bytes are scanned once. */
  private scanFrom = 0;
  /** Length of the current message once its headers are complete, else -1. */
  private messageLength = -1;
  private failedWith: SipParseError | undefined;

  constructor(private readonly limits: SipLimits = DEFAULT_SIP_LIMITS) {}

  /** True after a fatal error: further input is ignored. */
  get failed(): boolean {
    return this.failedWith !== undefined;
  }

  /** Bytes received but not yet returned in an event. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Adds received bytes and returns the events they complete, in order. */
  push(chunk: Buffer): FramerEvent[] {
    if (this.failedWith !== undefined) return [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const events: FramerEvent[] = [];
    for (;;) {
      const ev = this.next();
      if (ev === undefined) break;
      events.push(ev);
      if (ev.kind === 'error' && ev.fatal) break;
    }
    return events;
  }

  private consume(n: number): void {
    this.pending = this.pending.subarray(n);
    this.scanFrom = 0;
    this.messageLength = -1;
  }

  private fail(reason: string, code: SipParseErrorCode, data: Buffer): FramerEvent {
    let error = new SipParseError(reason, { code });
    // A parse of the head salvages Via/From/To/Call-ID/CSeq so that an over-size message can get 513.
    try {
      const ctx = parseMessage(data, { ...this.limits, maxMessageBytes: Math.max(this.limits.maxMessageBytes, data.length) }).responseContext();
      if (ctx !== undefined) error = error.withResponseContext(ctx);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      if (err.responseContext !== undefined) error = error.withResponseContext(err.responseContext);
    }
    this.failedWith = error;
    this.pending = Buffer.alloc(0);
    return { kind: 'error', error, fatal: true };
  }

  private next(): FramerEvent | undefined {
    const buf = this.pending;
    if (buf.length === 0) return undefined;
    if (this.messageLength < 0) {
      // Between messages: RFC 5626 §3.5.1 keep-alives. A ping is CRLFCRLF, a pong a single CRLF.
      if (buf[0] === 13) {
        if (buf.length < 2) return undefined;
        if (buf[1] === 10) {
          if (buf.length >= 4 && buf[2] === 13 && buf[3] === 10) {
            this.consume(4);
            return { kind: 'keepalive-ping' };
          }
          if (buf.length === 3 && buf[2] === 13) return undefined;
          this.consume(2);
          return { kind: 'keepalive-pong' };
        }
      }
      const end = buf.indexOf(CRLFCRLF, Math.max(0, this.scanFrom - 3));
      if (end < 0) {
        if (buf.length > this.limits.maxMessageBytes) {
          return this.fail(`Headers exceed ${this.limits.maxMessageBytes} bytes`, 'message-too-large', buf);
        }
        this.scanFrom = buf.length;
        return undefined;
      }
      const headerBytes = end + 4;
      const contentLength = this.contentLength(buf.toString('latin1', 0, end + 2));
      if (typeof contentLength === 'string') return this.fail(contentLength, 'bad-content-length', buf.subarray(0, headerBytes));
      if (headerBytes + contentLength > this.limits.maxMessageBytes) {
        return this.fail(
          `Message of ${headerBytes + contentLength} bytes exceeds ${this.limits.maxMessageBytes}`, 'message-too-large', buf.subarray(0, headerBytes),
        );
      }
      this.messageLength = headerBytes + contentLength;
    }
    if (buf.length < this.messageLength) return undefined;
    const data = buf.subarray(0, this.messageLength);
    this.consume(this.messageLength);
    return { kind: 'message', data };
  }

  /**
   * The Content-Length of a header block, or the reason it cannot frame the stream: it is mandatory on
   * streams (RFC 3261 §18.3, §20.14) and several fields must agree.
   */
  private contentLength(head: string): number | string {
    let value = -1;
    let pos = head.indexOf('\n') + 1;
    while (pos > 0 && pos < head.length) {
      const nl = head.indexOf('\n', pos);
      const lineEnd = nl < 0 ? head.length : nl;
      const colon = head.indexOf(':', pos);
      if (colon > pos && colon < lineEnd && headerKey(trimLws(head.slice(pos, colon))) === 'content-length') {
        let raw = head.slice(colon + 1, lineEnd);
        let next = lineEnd + 1;
        // Folded continuation lines belong to the value (RFC 3261 §7.3.1).
        while (next < head.length && (head.charCodeAt(next) === 32 || head.charCodeAt(next) === 9)) {
          const e = head.indexOf('\n', next);
          raw += ' ' + head.slice(next, e < 0 ? head.length : e);
          next = e < 0 ? head.length : e + 1;
        }
        const n = parseDigits(trimLws(raw), 10);
        if (n < 0) return 'Bad Content-Length header';
        if (value >= 0 && n !== value) return 'Conflicting Content-Length headers';
        value = n;
      }
      pos = lineEnd + 1;
    }
    return value < 0 ? 'Content-Length header not found on a stream transport' : value;
  }
}
