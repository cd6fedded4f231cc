import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { contactExpiresSec, contactQ } from '../../../sip-gateway/src/sip/contact';
import { headerParam } from '../../../sip-gateway/src/sip/name-addr';
import { createRequest, createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '../../fixtures/sip', name));
const msg = (lines: string[], body = ''): Buffer => Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
  'From: <sip:a@example.com>;tag=f1',
  'To: <sip:a@example.com>',
  'Call-ID: c1',
  'CSeq: 1 REGISTER',
];

function parseError(act: () => unknown): SipParseError {
  try {
    act();
  } catch (err) {
    if (err instanceof SipParseError) return err;
    throw err;
  }
  throw new Error('expected a SipParseError');
}

describe('Module: message', () => {
  describe('Function: parseMessage', () => {
    it('reads the fields a mid-registrar needs from a REGISTER', () => {
      // Act
      const m = parseMessage(fixture('register.sip'));
      // Assess
      expect(m.isRequest).toBe(true);
      expect(m.method).toBe('REGISTER');
      expect(m.requestUri).toBe('sip:registrar.example.com');
      expect(m.topVia()).toMatchObject({ transport: 'UDP', host: '192.0.2.10', port: 5060, branch: 'z9hG4bK-524287-1---a1b2c3d4', rport: null });
      expect(headerParam(m.from(), 'tag')).toBe('37GkEhwl6');
      expect(m.to().uri).toMatchObject({ user: 'alice', host: 'example.com' });
      expect(m.callId()).toBe('1j9FpLxk3uxtm8tn@192.0.2.10');
      expect(m.cseq()).toEqual({ seq: 2, method: 'REGISTER' });
      expect(m.maxForwards()).toBe(70);
      expect(m.expires()).toBe(3600);
      expect(m.supported()).toEqual(['path', 'outbound', 'gruu']);
      expect(m.hasAuthorization()).toBe(false);
      const contacts = m.contacts();
      expect(contacts.star).toBe(false);
      if (!contacts.star) {
        expect(contacts.contacts).toHaveLength(1);
        expect(contactExpiresSec(contacts.contacts[0])).toBe(3600);
        expect(contactQ(contacts.contacts[0])).toBe(0.8);
      }
      expect(m.body.length).toBe(0);
    });

    it('reads Via lists, Route and Record-Route and the body of an INVITE', () => {
      // Act
      const m = parseMessage(fixture('invite.sip'));
      // Assess
      expect(m.vias().map((v) => v.branch)).toEqual(['z9hG4bK776asdhds', 'z9hG4bK4b43c2ff8.1', 'z9hG4bKold']);
      expect(m.routes().map((r) => r.uri.host)).toEqual(['edge.example.com', 'core.example.com']);
      expect(m.recordRoutes()).toHaveLength(1);
      expect(m.paths()).toEqual([]);
      expect(m.body.toString('latin1')).toMatch(/^v=0\r\n[\s\S]*RTP\/AVP 0\r\n$/);
    });

    it('matches names case-insensitively and maps compact forms (RFC 3261 §7.3.3)', () => {
      // Prepare
      const raw = msg(['v: SIP/2.0/UDP h;branch=z9hG4bKc', 'f: <sip:a@b>;tag=1', 't: <sip:a@b>', 'i: cid', 'CSEQ: 3 OPTIONS', 'm: <sip:a@h>', 'k: path', 'l: 0'].map((l, i) => (i === 0 ? 'OPTIONS sip:b SIP/2.0\r\n' + l : l)));
      // Act
      const m = parseMessage(raw);
      // Assess
      expect(m.header('Call-ID')).toBe('cid');
      expect(m.header('call-id')).toBe('cid');
      expect(m.header('i')).toBe('cid');
      expect(m.topVia()?.branch).toBe('z9hG4bKc');
      expect(m.fromTag()).toBe('1');
      expect(m.hasHeader('Contact')).toBe(true);
      expect(m.supported()).toEqual(['path']);
      expect(m.cseq()).toEqual({ seq: 3, method: 'OPTIONS' });
    });

    it('unfolds continuation lines (RFC 3261 §7.3.1)', () => {
      // Prepare
      const raw = msg(['REGISTER sip:b SIP/2.0', ...BASE.slice(0, 4), 'CSeq: 1', '   REGISTER', 'Subject: a', '\tb']);
      // Act
      const m = parseMessage(raw);
      // Assess
      expect(m.cseq()).toEqual({ seq: 1, method: 'REGISTER' });
      expect(m.header('Subject')).toBe('a b');
    });

    it('splits list headers but not single-value ones', () => {
      // Prepare
      const raw = msg(['SIP/2.0 401 Unauthorized', ...BASE, 'WWW-Authenticate: Digest realm="x", nonce="y", qop="auth"', 'Contact: <sip:a@b>, <sip:c@d>', 'Content-Length: 0']);
      // Act
      const m = parseMessage(raw);
      // Assess
      expect(m.isRequest).toBe(false);
      expect(m.status).toBe(401);
      expect(m.reasonPhrase).toBe('Unauthorized');
      expect(m.headerValues('WWW-Authenticate')).toEqual(['Digest realm="x", nonce="y", qop="auth"']);
      expect(m.headerValues('Contact')).toEqual(['<sip:a@b>', '<sip:c@d>']);
    });

    it('skips CRLFs before the start line (RFC 3261 §7.5) and accepts bare LF line ends', () => {
      // Prepare
      const raw = Buffer.from('\r\n\r\nOPTIONS sip:b SIP/2.0\n' + BASE.join('\n') + '\n\n', 'latin1');
      // Act
      const m = parseMessage(raw);
      // Assess
      expect(m.method).toBe('OPTIONS');
      expect(m.callId()).toBe('c1');
    });

    it('discards bytes beyond Content-Length and takes the rest when it is absent (RFC 3261 §18.3)', () => {
      // Act
      const cut = parseMessage(msg(['MESSAGE sip:b SIP/2.0', ...BASE, 'Content-Length: 5'], 'helloEXTRA'));
      const rest = parseMessage(msg(['MESSAGE sip:b SIP/2.0', ...BASE], 'whole body'));
      // Assess
      expect(cut.body.toString()).toBe('hello');
      expect(rest.body.toString()).toBe('whole body');
    });

    it.each([
      ['a Content-Length beyond the datagram', ['Content-Length: 50'], 'short', 'bad-content-length'],
      ['conflicting Content-Length fields', ['Content-Length: 5', 'l: 6'], 'hello!', 'bad-content-length'],
      ['a negative Content-Length', ['Content-Length: -1'], '', 'bad-content-length'],
      ['a header line without colon', ['Bogus'], '', 'bad-header'],
      ['a bad header name', ['Bad Name: x'], '', 'bad-header'],
    ])('ERR-3: rejects %s with an answerable SipParseError', (_what, extra, body, code) => {
      // Act
      const err = parseError(() => parseMessage(msg(['MESSAGE sip:b SIP/2.0', ...BASE, ...extra], body)));
      // Assess
      expect(err.code).toBe(code);
      expect(err.statusCode).toBe(400);
      expect(err.answerable).toBe(true);
      expect(err.responseContext).toEqual({ via: ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1'], from: '<sip:a@example.com>;tag=f1', to: '<sip:a@example.com>', callId: 'c1', cseq: '1 REGISTER' });
    });

    it.each([
      ['a start line with two spaces', 'INVITE  sip:b SIP/2.0'],
      ['a Request-URI in angle brackets', 'INVITE <sip:b> SIP/2.0'],
      ['a missing version', 'INVITE sip:b'],
      ['a space after the version', 'INVITE sip:b SIP/2.0 '],
      ['a method that is not a token', 'INV@TE sip:b SIP/2.0'],
      ['a version that is not SIP/x.y', 'INVITE sip:b HTTP/1.1'],
      ['a bad status code', 'SIP/2.0 99 Weird'],
    ])('rejects %s as a bad start line', (_what, startLine) => {
      // Act
      const err = parseError(() => parseMessage(msg([startLine, ...BASE])));
      // Assess
      expect(['bad-start-line', 'bad-uri']).toContain(err.code);
      expect(err.statusCode).toBe(400);
    });

    it('reads a request line of any method and a version in any case (RFC 3261 §7.1)', () => {
      // Act
      const known = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE]));
      const other = parseMessage(msg(['FOO-BAR sip:b sip/2.0', ...BASE.map((l) => l.replace('REGISTER', 'FOO-BAR'))]));
      // Assess
      expect([known.method, known.requestUri]).toEqual(['REGISTER', 'sip:b']);
      expect([other.method, other.requestUri]).toEqual(['FOO-BAR', 'sip:b']);
      expect(() => other.validate()).not.toThrow();
    });

    it('answers an unknown SIP version with 505', () => {
      // Act
      const err = parseError(() => parseMessage(msg(['OPTIONS sip:b SIP/7.0', ...BASE])));
      // Assess
      expect(err.code).toBe('unsupported-version');
      expect(err.statusCode).toBe(505);
      expect(err.answerable).toBe(true);
    });

    it('ERR-3: is not answerable when Call-ID is missing', () => {
      // Act
      const err = parseError(() => parseMessage(msg(['OPTIONS sip:b SIP/2.0', ...BASE.filter((l) => !l.startsWith('Call-ID')), 'Bogus'])));
      // Assess
      expect(err.answerable).toBe(false);
    });

    it('rejects a message without the empty line after the headers', () => {
      // Act
      const err = parseError(() => parseMessage(Buffer.from('OPTIONS sip:b SIP/2.0\r\nCall-ID: x\r\n')));
      // Assess
      expect(err.code).toBe('malformed');
    });

    it('gives each message its own field list: a later parse with fewer or folded fields leaves earlier messages whole', () => {
      // Prepare
      const long = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE, 'Contact: <sip:a@1>', 'Expires: 60', 'Subject: a', ' b']));
      // Act
      const short = parseMessage(msg(['OPTIONS sip:b SIP/2.0', 'Subject: x', '\tfolded', 'Call-ID: c2']));
      // Assess
      expect(long.headerNames()).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires', 'Subject']);
      expect(long.header('Subject')).toBe('a b');
      expect(short.headerFields()).toEqual([['Subject', 'x folded'], ['Call-ID', 'c2']]);
    });

    describe('limits', () => {
      it('ERR-4: a message over maxMessageBytes is too large (513) but answerable', () => {
        // Prepare
        const raw = msg(['MESSAGE sip:b SIP/2.0', ...BASE], 'x'.repeat(200));
        // Act
        const err = parseError(() => parseMessage(raw, { maxMessageBytes: 150, maxHeaderLines: 200, maxLineBytes: 8192 }));
        // Assess
        expect(err.code).toBe('message-too-large');
        expect(err.statusCode).toBe(513);
        expect(err.answerable).toBe(true);
      });

      it('rejects more header lines than maxHeaderLines', () => {
        // Prepare
        const raw = msg(['OPTIONS sip:b SIP/2.0', ...BASE, 'X-A: 1', 'X-B: 2']);
        // Act
        const err = parseError(() => parseMessage(raw, { maxMessageBytes: 65535, maxHeaderLines: 6, maxLineBytes: 8192 }));
        // Assess
        expect(err.code).toBe('too-many-headers');
      });

      it('rejects a line longer than maxLineBytes', () => {
        // Prepare
        const raw = msg(['OPTIONS sip:b SIP/2.0', ...BASE, 'X-Long: ' + 'y'.repeat(100)]);
        // Act
        const err = parseError(() => parseMessage(raw, { maxMessageBytes: 65535, maxHeaderLines: 200, maxLineBytes: 64 }));
        // Assess
        expect(err.code).toBe('line-too-long');
      });
    });
  });

  describe('Typed accessors', () => {
    const read: Record<string, (m: SipMessage) => unknown> = {
      cseq: (m) => m.cseq(), maxForwards: (m) => m.maxForwards(), expires: (m) => m.expires(), contacts: (m) => m.contacts(), routes: (m) => m.routes(),
    };
    it.each([
      ['CSeq: 4294967296 REGISTER', 'cseq', 'Bad CSeq header'],
      ['CSeq: 1', 'cseq', 'Bad CSeq header'],
      ['Max-Forwards: 256', 'maxForwards', 'Bad Max-Forwards header'],
      ['Expires: soon', 'expires', 'Invalid Expires header'],
      ['Contact: <sip:a@b', 'contacts', 'Bad Contact header'],
      ['Route: sip:a@b junk', 'routes', 'Bad Route header'],
    ])('throw SipParseError for %s', (line, accessor, reason) => {
      // Prepare
      const lines = ['REGISTER sip:b SIP/2.0', ...BASE.filter((l) => !(line.startsWith('CSeq') && l.startsWith('CSeq'))), line];
      const m = parseMessage(msg(lines));
      // Act
      const err = parseError(() => read[accessor](m));
      // Assess
      expect(err.reason).toBe(reason);
    });

    it('REG-3: clamps a huge Expires to 2^32-1', () => {
      // Act
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE, 'Expires: 99999999999999999999']));
      // Assess
      expect(m.expires()).toBe(4294967295);
    });

    it('ERR-6: validate names a missing header and carries no context', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE.filter((l) => !l.startsWith('From'))]));
      // Act
      const err = parseError(() => m.validate());
      // Assess
      expect(err.reason).toBe('From header not found');
      expect(err.answerable).toBe(false);
    });

    it('validate rejects a CSeq method that differs from the request method', () => {
      // Prepare
      const m = parseMessage(msg(['INVITE sip:b SIP/2.0', ...BASE]));
      // Act
      const err = parseError(() => m.validate());
      // Assess
      expect(err.header).toBe('CSeq');
      expect(err.answerable).toBe(true);
    });

    it('decodes UTF-8 in header values', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE.filter((l) => !l.startsWith('From')), 'From: "Jörg" <sip:j@b>;tag=9']));
      // Act
      const from = m.from();
      // Assess
      expect(from.displayName).toBe('Jörg');
    });

    it('reads tags of non-SIP URIs without parsing them', () => {
      // Prepare
      const m = parseMessage(msg(['INVITE sip:b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK2', 'From: <tel:+15551234>;tag=t1', 'To: <tel:+15559999>', 'Call-ID: x', 'CSeq: 1 INVITE']));
      // Act / Assess
      expect(m.fromTag()).toBe('t1');
      expect(m.toTag()).toBeUndefined();
      expect(() => m.from()).toThrow('Bad From header');
    });

    it('headerValues splits list values, drops empty ones, and returns arrays the caller owns', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE, 'Supported:', 'Supported: path', 'Supported: gruu, outbound', 'Subject: a, b']));
      // Act
      const first = m.headerValues('Supported');
      first[0] = 'changed';
      // Assess
      expect(m.headerValues('Supported')).toEqual(['path', 'gruu', 'outbound']);
      expect(m.headerValues('Subject')).toEqual(['a, b']);
      expect(m.headerValues('Route')).toEqual([]);
      expect(m.fieldValues('Supported')).toEqual(['', 'path', 'gruu, outbound']);
      expect(m.fieldValues('Route')).toEqual([]);
    });
  });

  describe('Editing and serialize', () => {
    it('returns the received bytes for an unedited message', () => {
      // Prepare
      const raw = fixture('register.sip');
      // Act
      const out = parseMessage(raw).serialize();
      // Assess
      expect(out.equals(raw)).toBe(true);
    });

    it('keeps untouched lines byte for byte, adds a top Via, rewrites the Request-URI and Content-Length', () => {
      // Prepare
      const raw = Buffer.from('INVITE sip:b@x SIP/2.0\r\nVIA :  SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nl: 2\r\nSubject: one\r\n two\r\n\r\nhi', 'latin1');
      const m = parseMessage(raw);
      // Act
      m.prependHeader('Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp');
      m.setRequestUri('sip:b@10.0.0.2:5070');
      m.removeHeader('Route');
      m.setBody(Buffer.from('hello'));
      const out = m.serialize().toString('latin1');
      // Assess
      expect(out).toBe('INVITE sip:b@10.0.0.2:5070 SIP/2.0\r\nVia: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp\r\nVIA :  SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\nSubject: one\r\n two\r\n\r\nhello');
      expect(parseMessage(m.serialize()).vias().map((v) => v.branch)).toEqual(['z9hG4bKp', 'z9hG4bK1']);
    });

    it('setHeader replaces all fields in place, appendHeader adds after the last, and edits invalidate cached values', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE, 'Contact: <sip:a@1>', 'Expires: 60', 'Contact: <sip:a@2>']));
      expect(m.expires()).toBe(60);
      // Act
      m.setHeader('Contact', ['<sip:z@9>;expires=10']);
      m.appendHeader('Via', 'SIP/2.0/UDP last;branch=z9hG4bKl');
      m.setHeader('Expires', ['30']);
      // Assess
      expect(m.headerNames()).toEqual(['Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires']);
      expect(m.expires()).toBe(30);
      const again = parseMessage(m.serialize());
      expect(again.headerValues('Contact')).toEqual(['<sip:z@9>;expires=10']);
      expect(again.header('Content-Length')).toBe('0');
    });

    it('an edit forgets exactly the values read from the edited header, each re-read from the new value', () => {
      // Prepare: every typed value read once, so each is cached.
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE, 'Contact: <sip:a@1>', 'Expires: 60', 'Max-Forwards: 70', 'Supported: path']));
      const before = { via: m.topVia()?.branch, from: m.fromTag(), to: m.toTag(), callId: m.callId(), cseq: m.cseq().seq, maxForwards: m.maxForwards(), expires: m.expires(), contacts: m.contacts(), supported: m.headerValues('Supported') };

      // Act
      m.setHeader('Via', ['SIP/2.0/UDP h;branch=z9hG4bKnew']);
      m.setHeader('From', ['<sip:a@x>;tag=f2']);
      m.setHeader('To', ['<sip:a@x>;tag=t2']);
      m.setHeader('Call-ID', ['new-call']);
      m.setHeader('CSeq', ['99 REGISTER']);
      m.setHeader('Max-Forwards', ['5']);
      m.setHeader('Expires', ['30']);
      m.setHeader('Contact', ['<sip:z@9>']);
      m.setHeader('Supported', ['outbound']);

      // Assess
      expect(before).toMatchObject({ via: 'z9hG4bK1', callId: expect.any(String), expires: 60, maxForwards: 70, supported: ['path'] });
      expect(m.topVia()?.branch).toBe('z9hG4bKnew');
      expect(m.fromTag()).toBe('f2');
      expect(m.toTag()).toBe('t2');
      expect(m.callId()).toBe('new-call');
      expect(m.cseq().seq).toBe(99);
      expect(m.maxForwards()).toBe(5);
      expect(m.expires()).toBe(30);
      expect(m.contacts()).toMatchObject({ star: false, contacts: [{ uri: { user: 'z', host: '9' } }] });
      expect(m.headerValues('Supported')).toEqual(['outbound']);
    });

    it('clone is independent of the original', () => {
      // Prepare
      const m = parseMessage(fixture('invite.sip'));
      // Act
      const c = m.clone();
      c.setRequestUri('sip:bob@10.0.0.9');
      c.removeHeader('Route');
      // Assess
      expect(m.requestUri).toBe('sip:bob@biloxi.example.com');
      expect(m.routes()).toHaveLength(2);
      expect(m.serialize().equals(fixture('invite.sip'))).toBe(true);
      expect(parseMessage(c.serialize()).hasHeader('Route')).toBe(false);
    });

    it('writes received lines as their bytes, added text as UTF-8, and ends bare-LF lines with CRLF', () => {
      // Prepare
      const raw = Buffer.from('MESSAGE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: "Zoë" <sip:a@x>;tag=1\nTo: <sip:b@x>\nSubject: ä\n  ö\nCall-ID: c\nCSeq: 1 MESSAGE\nContent-Length: 2\n\nhi', 'utf8');
      const m = parseMessage(raw);
      // Act
      m.setHeader('To', ['"Jürgen" <sip:b@x>;tag=ß']);
      m.appendHeader('X-Note', 'naïve');
      const out = m.serialize();
      // Assess
      expect(out.equals(Buffer.from('MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: "Zoë" <sip:a@x>;tag=1\r\nTo: "Jürgen" <sip:b@x>;tag=ß\r\nSubject: ä\n  ö\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\nX-Note: naïve\r\n\r\nhi', 'utf8'))).toBe(true);
    });

    it('copies received runs longer than the loop-copy bound and short ones alike, then the body', () => {
      // Prepare: a 700-byte run of untouched lines (copied natively) and a short one after the edited field
      const long = `X-Long: ${'a'.repeat(700)}`;
      const m = parseMessage(msg(['OPTIONS sip:b@x SIP/2.0', long, ...BASE.slice(0, 2), 'Max-Forwards: 70', ...BASE.slice(2), 'Content-Length: 3'], 'abc'));
      // Act
      m.setHeader('Max-Forwards', ['69']);
      const out = m.serialize();
      // Assess
      expect(out.equals(msg(['OPTIONS sip:b@x SIP/2.0', long, ...BASE.slice(0, 2), 'Max-Forwards: 69', ...BASE.slice(2), 'Content-Length: 3'], 'abc'))).toBe(true);
    });

    it('writes an edited start line and one Content-Length for several fields', () => {
      // Prepare
      const m = parseMessage(msg(['SIP/2.0 180 Ringing', ...BASE, 'Content-Length: 0', 'l: 0']));
      // Act
      m.setStatus(603, 'Décliné');
      // Assess
      expect(m.serialize().equals(msg(['SIP/2.0 603 Décliné', ...BASE, 'Content-Length: 0']))).toBe(true);
    });

    it('removing an absent header keeps the received bytes', () => {
      // Prepare
      const raw = fixture('register.sip');
      const m = parseMessage(raw);
      // Act
      m.removeHeader('X-Absent');
      // Assess
      expect(m.serialize()).toBe(raw);
    });

    it('setHeader with one value adds it last when absent and replaces several fields at the first', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE, 'Supported: path', 'Expires: 60', 'Supported: gruu']));
      // Act
      m.setHeader('Supported', ['outbound']);
      m.setHeader('Require', ['path']);
      // Assess
      expect(m.headerNames()).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Supported', 'Expires', 'Require']);
      expect(m.supported()).toEqual(['outbound']);
    });

    it('rejects header values with line breaks (header injection)', () => {
      // Prepare
      const m = parseMessage(fixture('register.sip'));
      // Act
      const act = (): void => m.setHeader('X-Evil', ['a\r\nVia: forged']);
      // Assess
      expect(act).toThrow(SipParseError);
    });
    it('re-reads only the edited header: other typed values stay as parsed', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE, 'Max-Forwards: 70', 'Route: <sip:p1;lr>', 'Contact: <sip:a@192.0.2.1>']));
      expect(m.topVia()?.branch).toBe('z9hG4bK1');
      expect(m.fromTag()).toBe('f1');
      const cseq = m.cseq();
      expect(m.routes()).toHaveLength(1);
      // Act
      m.setHeader('Via', ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2;received=192.0.2.9']);
      // Assess
      expect(m.topVia()?.branch).toBe('z9hG4bK2');
      expect(m.vias().map((v) => v.received)).toEqual(['192.0.2.9']);
      expect(m.cseq()).toBe(cseq);
      expect(m.fromTag()).toBe('f1');
      // Act: every edited header is read again
      m.prependHeader('v', 'SIP/2.0/TCP 192.0.2.7;branch=z9hG4bK3');
      m.setHeader('From', ['<sip:b@example.com>;tag=f2']);
      m.setHeader('t', ['<sip:a@example.com>;tag=t9']);
      m.setHeader('Call-ID', ['c2']);
      m.setHeader('CSeq', ['2 REGISTER']);
      m.setHeader('Max-Forwards', ['69']);
      m.appendHeader('Route', '<sip:p2;lr>');
      m.setHeader('Contact', ['*']);
      m.setHeader('Expires', ['0']);
      m.setRequestUri('sip:other.example.com');
      // Assess
      expect(m.topVia()?.branch).toBe('z9hG4bK3');
      expect(m.vias()).toHaveLength(2);
      expect(m.fromTag()).toBe('f2');
      expect(m.from().uri.user).toBe('b');
      expect(m.toTag()).toBe('t9');
      expect(m.callId()).toBe('c2');
      expect(m.cseq().seq).toBe(2);
      expect(m.maxForwards()).toBe(69);
      expect(m.routes()).toHaveLength(2);
      expect(m.contacts()).toEqual({ star: true });
      expect(m.expires()).toBe(0);
      expect(m.sipRequestUri().host).toBe('other.example.com');
      expect(m.responseContext()).toMatchObject({ from: '<sip:b@example.com>;tag=f2', callId: 'c2', cseq: '2 REGISTER' });
    });

    it('setHeader with one value replaces a lone field in place and collapses repeated ones at the first', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE, 'Max-Forwards: 70', 'Supported: path', 'Supported: outbound']));
      const other = m.clone();
      // Act
      m.setHeader('Max-Forwards', ['69']);
      m.setHeader('Supported', ['gruu']);
      // Assess
      expect(m.headerNames()).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Supported']);
      expect(m.maxForwards()).toBe(69);
      expect(m.supported()).toEqual(['gruu']);
      expect(other.maxForwards()).toBe(70);
      expect(other.supported()).toEqual(['path', 'outbound']);
    });

    it('an in-place one-value edit changes neither a clone nor a response created before it', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE]));
      const copy = m.clone();
      const response = createResponse(m, 200, 'OK');
      // Act
      m.setHeader('Via', ['SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKs;received=192.0.2.9']);
      copy.setHeader('Call-ID', ['c9']);
      // Assess
      expect(m.topVia()?.received).toBe('192.0.2.9');
      expect(m.callId()).toBe('c1');
      expect(copy.topVia()?.received).toBeUndefined();
      expect(parseMessage(response.serialize()).headerFields().slice(0, 2)).toEqual([['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1'], ['From', '<sip:a@example.com>;tag=f1']]);
      expect(parseMessage(response.serialize()).callId()).toBe('c1');
    });

    it('forgets a removed header', () => {
      // Prepare
      const m = parseMessage(msg(['OPTIONS sip:r SIP/2.0', ...BASE.map((l) => l.replace('REGISTER', 'OPTIONS')), 'Supported: path', 'Max-Forwards: 70']));
      expect(m.supported()).toEqual(['path']);
      expect(m.maxForwards()).toBe(70);
      // Act
      m.removeHeader('Supported');
      m.removeHeader('Max-Forwards');
      // Assess
      expect(m.supported()).toEqual([]);
      expect(m.maxForwards()).toBeUndefined();
    });
  });

  describe('Method: validate', () => {
    it.each([
      [['CSeq: 1 REGISTER', 'From: <sip:b@example.com>;tag=f2'], 'From'],
      [['CSeq: 1 REGISTER', 'Max-Forwards: 70', 'Max-Forwards: 70'], 'CSeq'],
      [['Call-ID: c2'], 'Call-ID'],
      [['t: <sip:a@example.com>'], 'To'],
      [['Max-Forwards: 70', 'Max-Forwards: 69'], 'Max-Forwards'],
    ])('rejects %j repeated (RFC 3261 §7.3.1), naming %s first', (extra, header) => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE, ...extra]));
      // Act
      const err = parseError(() => m.validate());
      // Assess
      expect(err.reason).toBe(`Bad ${header} header`);
      expect(err.header).toBe(header);
      expect(err.answerable).toBe(true);
    });

    it('accepts each of From, To, Call-ID, CSeq and Max-Forwards once, other headers repeated', () => {
      // Prepare
      const m = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE, 'Max-Forwards: 70', 'Contact: <sip:a@x>', 'Contact: <sip:b@x>', BASE[0]]));
      // Act
      const act = (): void => m.validate();
      // Assess
      expect(act).not.toThrow();
    });
  });

  describe('Function: createResponse (RFC 3261 §8.2.6)', () => {
    it('copies Via, From, To, Call-ID and CSeq, adds the To tag, Content-Length 0', () => {
      // Prepare
      const req = parseMessage(fixture('invite.sip'));
      // Act
      const res = createResponse(req, 486, 'Busy Here', { toTag: 'xyz', headers: [['Retry-After', '30']] });
      const wire = parseMessage(res.serialize());
      // Assess
      expect(wire.status).toBe(486);
      expect(wire.reasonPhrase).toBe('Busy Here');
      expect(wire.headerValues('Via')).toEqual(req.headerValues('Via'));
      expect(wire.header('From')).toBe(req.header('From'));
      expect(wire.toTag()).toBe('xyz');
      expect(wire.header('Call-ID')).toBe(req.header('Call-ID'));
      expect(wire.cseq()).toEqual({ seq: 314159, method: 'INVITE' });
      expect(wire.header('Retry-After')).toBe('30');
      expect(wire.header('Content-Length')).toBe('0');
    });

    it('responses with the same status share their start line, yet setStatus on one leaves the others as they are', () => {
      // Prepare
      const req = parseMessage(msg(['REGISTER sip:b SIP/2.0', ...BASE]));
      const first = createResponse(req, 200, 'OK', { toTag: 't1' });
      const second = createResponse(req, 200, 'OK', { toTag: 't2' });
      // Act
      first.setStatus(500, 'Server Internal Error');
      const third = createResponse(req, 200, 'OK');
      // Assess
      expect([first.status, first.reasonPhrase]).toEqual([500, 'Server Internal Error']);
      expect([second.status, second.reasonPhrase]).toEqual([200, 'OK']);
      expect(second.serialize().toString('latin1').startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
      expect(parseMessage(third.serialize()).headerNames()).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length']);
    });

    it('keeps an existing To tag', () => {
      // Prepare
      const req = parseMessage(msg(['BYE sip:b SIP/2.0', ...BASE.filter((l) => !l.startsWith('To')), 'To: <sip:b@x>;tag=old']));
      // Act
      const res = createResponse(req, 200, 'OK', { toTag: 'new' });
      // Assess
      expect(res.toTag()).toBe('old');
    });
    it('writes copied fields as Name: value whatever the request spelling (compact, spacing, folding)', () => {
      // Prepare
      const req = parseMessage(msg([
        'REGISTER sip:r SIP/2.0',
        'v:SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
        'VIA: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2 ',
        'Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3',
        'From : <sip:a@example.com>;tag=f1',
        't:   <sip:a@example.com>',
        'Call-ID: c1',
        'CSeq: 1',
        '  REGISTER',
      ]));
      // Act
      const res = createResponse(req, 200, 'OK', { toTag: 'tt', headers: [['Expires', '60']] });
      // Assess
      expect(res.toString()).toBe([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
        'Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2',
        'Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3',
        'From: <sip:a@example.com>;tag=f1',
        'To: <sip:a@example.com>;tag=tt',
        'Call-ID: c1',
        'CSeq: 1 REGISTER',
        'Expires: 60',
        'Content-Length: 0',
        '', '',
      ].join('\r\n'));
      expect(res.headerValues('Via')).toEqual(req.headerValues('Via'));
      expect(res.callId()).toBe('c1');
    });

    it('copies an edited Via and UTF-8 values as they read', () => {
      // Prepare
      const req = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE.map((l) => l.replace('From: ', 'From: "Zoë" '))]));
      req.setHeader('Via', ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.9']);
      // Act
      const res = createResponse(req, 200, 'OK', { toTag: 'tt' });
      const wire = parseMessage(res.serialize());
      // Assess
      expect(wire.header('Via')).toBe('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.9');
      expect(wire.from().displayName).toBe('Zoë');
      expect(res.toString()).toContain('From: "Zoë" <sip:a@example.com>;tag=f1\r\n');
    });

    it('refuses to copy a value holding a bare CR', () => {
      // Prepare
      const req = parseMessage(msg(['REGISTER sip:r SIP/2.0', ...BASE.filter((l) => !l.startsWith('To')), 'To: "a\rb" <sip:a@example.com>']));
      // Act
      const err = parseError(() => createResponse(req, 200, 'OK'));
      // Assess
      expect(err.header).toBe('To');
    });
  });

  describe('Function: createRequest', () => {
    it('builds a request that parses back with its body', () => {
      // Act
      const req = createRequest({
        method: 'REGISTER', requestUri: 'sip:upstream.example.com',
        headers: [['Via', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKr'], ['From', '<sip:a@x>;tag=1'], ['To', '<sip:a@x>'], ['Call-ID', 'r1'], ['CSeq', '7 REGISTER'], ['Max-Forwards', '70']],
        body: Buffer.from('abc'),
      });
      const wire = parseMessage(req.serialize());
      // Assess
      expect(() => wire.validate()).not.toThrow();
      expect(wire.cseq()).toEqual({ seq: 7, method: 'REGISTER' });
      expect(wire.body.toString()).toBe('abc');
    });

    it('rejects a bad Request-URI', () => {
      // Act / Assess
      expect(() => createRequest({ method: 'REGISTER', requestUri: 'sip:a b', headers: [] })).toThrow(SipParseError);
    });
  });
});

describe('Responses are never answerable (RFC 3261 §8.1.3.3)', () => {
  it.each([
    ['a bad status line', 'SIP/2.0 99 Odd'],
    ['an unsupported version', 'SIP/3.0 200 OK'],
  ])('ERR-3: %s in a response carries no response context', (_what, statusLine) => {
    // Prepare
    const raw = Buffer.from([statusLine, 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@x>;tag=1', 'To: <sip:a@x>', 'Call-ID: c', 'CSeq: 1 INVITE', '', ''].join('\r\n'));
    // Act
    let error: unknown;
    try {
      parseMessage(raw);
    } catch (err) {
      error = err;
    }
    // Assess
    expect(error).toBeInstanceOf(SipParseError);
    expect((error as SipParseError).answerable).toBe(false);
  });

  it('ERR-3: a response with a bad CSeq is rejected without context', () => {
    // Prepare
    const m = parseMessage(Buffer.from(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@x>;tag=1', 'To: <sip:a@x>', 'Call-ID: c', 'CSeq: x INVITE', '', ''].join('\r\n')));
    // Act
    let error: unknown;
    try {
      m.validate();
    } catch (err) {
      error = err;
    }
    // Assess
    expect((error as SipParseError).reason).toBe('Bad CSeq header');
    expect((error as SipParseError).answerable).toBe(false);
    expect(m.responseContext()).toBeUndefined();
  });
});
