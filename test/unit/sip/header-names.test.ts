import { canonicalHeaderName, headerKey, isListHeader } from '../../../sip-gateway/src/sip/header-names';
import { parseMessage } from '../../../sip-gateway/src/sip/message';

describe('Module: header-names', () => {
  describe('Function: headerKey', () => {
    it.each([
      ['i', 'call-id'], ['m', 'contact'], ['v', 'via'], ['f', 'from'], ['t', 'to'], ['l', 'content-length'], ['k', 'supported'],
      ['e', 'content-encoding'], ['c', 'content-type'], ['s', 'subject'], ['o', 'event'], ['u', 'allow-events'], ['r', 'refer-to'],
      ['x', 'session-expires'], ['y', 'identity'],
    ])('maps the compact form %s to %s in either case (RFC 3261 §7.3.3)', (compact, key) => {
      // Act / Assess
      expect(headerKey(compact)).toBe(key);
      expect(headerKey(compact.toUpperCase())).toBe(key);
    });

    it('folds case of long names and rejects non-tokens', () => {
      // Act / Assess
      expect(headerKey('CALL-id')).toBe('call-id');
      expect(headerKey('X-Custom')).toBe('x-custom');
      expect(headerKey('Bad Name')).toBeUndefined();
      expect(headerKey('')).toBeUndefined();
    });
  });

  describe('Function: canonicalHeaderName', () => {
    it.each([['call-id', 'Call-ID'], ['cseq', 'CSeq'], ['www-authenticate', 'WWW-Authenticate'], ['max-forwards', 'Max-Forwards'], ['x-foo-bar', 'X-Foo-Bar']])(
      'writes %s as %s', (key, name) => {
        // Act / Assess
        expect(canonicalHeaderName(key)).toBe(name);
      });
  });

  describe('Function: isListHeader', () => {
    it('splits list headers only (RFC 3261 §7.3.1)', () => {
      // Act / Assess
      expect(['via', 'contact', 'route', 'record-route', 'path', 'supported', 'require'].every(isListHeader)).toBe(true);
      expect(['www-authenticate', 'authorization', 'date', 'call-id', 'from', 'to', 'cseq'].some(isListHeader)).toBe(false);
    });
  });

  describe('Compact forms in a message', () => {
    it('answers the long name for every compact field', () => {
      // Prepare
      const raw = Buffer.from(['OPTIONS sip:a@b SIP/2.0', 'v: SIP/2.0/UDP h;branch=z9hG4bK1', 'f: <sip:a@b>;tag=1', 't: <sip:a@b>', 'i: c1',
        'CSeq: 1 OPTIONS', 'm: <sip:a@h>', 'k: path', 'e: gzip', 'c: text/plain', 's: hi', 'o: reg', 'u: reg', 'r: <sip:x@y>',
        'x: 1800', 'y: sig', 'l: 2', '', 'ok'].join('\r\n'));
      // Act
      const m = parseMessage(raw);
      // Assess
      expect(['Via', 'From', 'To', 'Call-ID', 'Contact', 'Supported', 'Content-Encoding', 'Content-Type', 'Subject', 'Event',
        'Allow-Events', 'Refer-To', 'Session-Expires', 'Identity', 'Content-Length'].map((n) => m.header(n)))
        .toEqual(['SIP/2.0/UDP h;branch=z9hG4bK1', '<sip:a@b>;tag=1', '<sip:a@b>', 'c1', '<sip:a@h>', 'path', 'gzip', 'text/plain', 'hi',
          'reg', 'reg', '<sip:x@y>', '1800', 'sig', '2']);
      expect(m.contentLength()).toBe(2);
    });
  });
});

describe('Header names that shadow object members', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('%s is an ordinary extension header', (name) => {
    // Act / Assess
    expect(headerKey(name)).toBe(name.toLowerCase());
    expect(canonicalHeaderName(name.toLowerCase())).toEqual(expect.any(String));
  });
});
