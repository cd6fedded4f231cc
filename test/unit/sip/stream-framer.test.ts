import { type FramerEvent, SipStreamFramer } from '../../../sip-gateway/src/sip/stream-framer';
import { parseMessage } from '../../../sip-gateway/src/sip/message';

const HEAD = 'OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n';
const message = (body: string, cl: string = `Content-Length: ${Buffer.byteLength(body)}`): string => `${HEAD}${cl}\r\n\r\n${body}`;

function kinds(events: FramerEvent[]): string[] {
  return events.map((e) => (e.kind === 'message' ? `message:${parseMessage(e.data).body.toString()}` : e.kind));
}

describe('Class: SipStreamFramer', () => {
  describe('Method: push', () => {
    it('cuts back-to-back messages by Content-Length (RFC 3261 §18.3)', () => {
      // Prepare
      const framer = new SipStreamFramer();
      // Act
      const events = framer.push(Buffer.from(message('one') + message('') + message('three')));
      // Assess
      expect(kinds(events)).toEqual(['message:one', 'message:', 'message:three']);
      expect(framer.bufferedBytes).toBe(0);
    });

    it('reassembles a message delivered one byte at a time', () => {
      // Prepare
      const framer = new SipStreamFramer();
      const bytes = Buffer.from(message('hello body'));
      const events: FramerEvent[] = [];
      // Act
      for (let i = 0; i < bytes.length; i++) events.push(...framer.push(bytes.subarray(i, i + 1)));
      // Assess
      expect(kinds(events)).toEqual(['message:hello body']);
      expect(events[0].kind === 'message' && events[0].data.equals(bytes)).toBe(true);
    });

    it('reports a CRLFCRLF ping and a CRLF pong between messages (RFC 5626 §3.5.1)', () => {
      // Prepare
      const framer = new SipStreamFramer();
      // Act
      const events = framer.push(Buffer.from('\r\n\r\n' + message('a') + '\r\n' + message('b')));
      // Assess
      expect(kinds(events)).toEqual(['keepalive-ping', 'message:a', 'keepalive-pong', 'message:b']);
    });

    it('waits for the fourth byte of a ping split after three bytes', () => {
      // Prepare
      const framer = new SipStreamFramer();
      // Act
      const first = framer.push(Buffer.from('\r\n\r'));
      const second = framer.push(Buffer.from('\n'));
      // Assess
      expect(first).toEqual([]);
      expect(kinds(second)).toEqual(['keepalive-ping']);
    });

    it('honours a folded and compact Content-Length', () => {
      // Prepare
      const framer = new SipStreamFramer();
      // Act
      const events = framer.push(Buffer.from(message('xyz', 'l:\r\n 3')));
      // Assess
      expect(kinds(events)).toEqual(['message:xyz']);
    });

    it('ERR-4: an over-size message is a fatal, answerable 513 error and later input is ignored', () => {
      // Prepare
      const framer = new SipStreamFramer({ maxMessageBytes: 1000, maxHeaderLines: 200, maxLineBytes: 8192 });
      // Act
      const events = framer.push(Buffer.from(message('', 'Content-Length: 70000')));
      const after = framer.push(Buffer.from(message('ok')));
      // Assess
      expect(events).toHaveLength(1);
      const ev = events[0];
      expect(ev.kind).toBe('error');
      if (ev.kind === 'error') {
        expect(ev.fatal).toBe(true);
        expect(ev.error.statusCode).toBe(513);
        expect(ev.error.answerable).toBe(true);
        expect(ev.error.responseContext?.callId).toBe('c');
      }
      expect(after).toEqual([]);
      expect(framer.failed).toBe(true);
    });

    it('ERR-4: headers that never end within maxMessageBytes are fatal', () => {
      // Prepare
      const framer = new SipStreamFramer({ maxMessageBytes: 500, maxHeaderLines: 200, maxLineBytes: 8192 });
      // Act
      const events = framer.push(Buffer.from(HEAD + 'X-Pad: ' + 'p'.repeat(600)));
      // Assess
      expect(events.map((e) => e.kind === 'error' && e.error.code)).toEqual(['message-too-large']);
    });

    it.each([
      ['a missing Content-Length', ''],
      ['a bad Content-Length', 'Content-Length: abc'],
      ['conflicting Content-Length fields', 'Content-Length: 1\r\nl: 2'],
    ])('rejects %s as fatal and answerable with 400', (_what, cl) => {
      // Prepare
      const framer = new SipStreamFramer();
      const text = cl === '' ? `${HEAD}\r\n` : `${HEAD}${cl}\r\n\r\n`;
      // Act
      const events = framer.push(Buffer.from(text));
      // Assess
      const ev = events[0];
      expect(ev.kind).toBe('error');
      if (ev.kind === 'error') {
        expect(ev.fatal).toBe(true);
        expect(ev.error.statusCode).toBe(400);
        expect(ev.error.answerable).toBe(true);
      }
    });

    it('holds an incomplete body until the rest arrives', () => {
      // Prepare
      const framer = new SipStreamFramer();
      const text = message('0123456789');
      // Act
      const first = framer.push(Buffer.from(text.slice(0, text.length - 4)));
      const second = framer.push(Buffer.from(text.slice(text.length - 4)));
      // Assess
      expect(first).toEqual([]);
      expect(kinds(second)).toEqual(['message:0123456789']);
    });
  });
});
