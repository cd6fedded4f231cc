import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactExpiresSec, contactQ } from '../../../sip-gateway/src/sip/contact';
import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';
import { headerParam } from '../../../sip-gateway/src/sip/name-addr';
import { SipStreamFramer } from '../../../sip-gateway/src/sip/stream-framer';
import { parseUri, unescapeUriPart, uriParam, urisEqual } from '../../../sip-gateway/src/sip/uri';

const torture = (name: string): Buffer => readFileSync(join(__dirname, '../../fixtures/sip/rfc4475', `${name}.dat`));

/** Parses and validates a torture message the RFC calls well-formed. */
function valid(name: string): SipMessage {
  const msg = parseMessage(torture(name));
  msg.validate();
  return msg;
}

/** The SipParseError that parsing, validating, or the given accessor of a message raises. */
function rejection(name: string, access: (m: SipMessage) => unknown = (m) => m.validate()): SipParseError {
  try {
    access(parseMessage(torture(name)));
  } catch (err) {
    if (err instanceof SipParseError) return err;
    throw err;
  }
  throw new Error(`${name} was accepted`);
}

function contactsOf(m: SipMessage): ReturnType<SipMessage['contacts']> & { star: false } {
  const list = m.contacts();
  if (list.star) throw new Error('unexpected star');
  return list;
}

describe('RFC 4475 torture tests', () => {
  describe('§3.1.1 valid messages parse to the right values', () => {
    it('§3.1.1.1 wsinv: folding, LWS around separators, compact and odd-case names, leading zeros', () => {
      // Act
      const m = valid('wsinv');
      // Assess
      expect(m.method).toBe('INVITE');
      expect(uriParam(m.sipRequestUri(), 'unknownparam')).toBeNull();
      expect(m.toTag()).toBe('1918181833n');
      expect(m.to().uri).toMatchObject({ user: 'vivekg', host: 'chair-dnrc.example.com' });
      expect(m.from().displayName).toBe('J Rosenberg \\"');
      expect(m.fromTag()).toBe('98asjd8');
      expect(m.maxForwards()).toBe(68);
      expect(m.callId()).toBe('wsinv.ndaksdj@192.0.2.1');
      expect(m.cseq()).toEqual({ seq: 9, method: 'INVITE' });
      expect(m.vias().map((v) => [v.transport, v.host, v.branch])).toEqual([
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ]);
      expect(m.header('Subject')).toBe('');
      expect(m.header('NewFangledHeader')).toBe('newfangled value continued newfangled value');
      expect(m.header('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
      expect(m.routes().map((r) => r.uri.params.map((p) => p.name))).toEqual([['lr', 'unknownwith', 'unknown-no-value']]);
      const [contact] = contactsOf(m).contacts;
      expect(contact.displayName).toBe('Quoted string ""');
      expect(headerParam(contact, 'newparam')).toBe('newvalue');
      expect(headerParam(contact, 'secondparam')).toBeNull();
      expect(contactQ(contact)).toBe(0.33);
      expect(m.body.length).toBe(150);
    });

    it('§3.1.1.2 intmeth: every token character, quoted NUL/BEL/DEL, UTF-8 parameter and header', () => {
      // Act
      const m = valid('intmeth');
      // Assess
      expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
      expect(m.sipRequestUri()).toMatchObject({
        user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", host: 'example.com',
      });
      expect(m.topVia()?.branch).toBe("z9hG4bK-.!%66*_+`'~");
      expect(m.to().displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7F');
      expect(m.from().displayName).toBe("token1~` token2'+_ token3*%!.-");
      expect(headerParam(m.from(), "fromParam''~+*_!.-%")).toBe('"работающий"');
      expect(m.fromTag()).toBe("_token~1'+`*%!-.");
      expect(m.callId()).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
      expect(m.cseq()).toEqual({ seq: 139122385, method: m.method });
      expect(m.maxForwards()).toBe(255);
      expect(m.header("extensionHeader-!.%*+_`'~")).toBe('\uFEFF大停電');
    });

    it('§3.1.1.3 esc01: %-escapes in URIs compare as the characters they encode, never recursively', () => {
      // Act
      const m = valid('esc01');
      // Assess
      expect(unescapeUriPart(m.sipRequestUri().user ?? '')).toBe('sips:user@example.com');
      expect(unescapeUriPart(m.to().uri.user ?? '')).toBe('user');
      expect(unescapeUriPart(m.from().uri.user ?? '')).toBe('I have spaces');
      expect(m.callId()).toBe('esc01.239409asdfakjkn23onasd0-3234');
      expect(m.header('Content-Type')).toBe('application/sdp');
      const [contact] = contactsOf(m).contacts;
      expect(urisEqual(contact.uri, parseUri('sip:caller@host5.example.net;lr;name=value%2541'))).toBe(true);
      expect(urisEqual(contact.uri, parseUri('sip:caller@host5.example.net;lr;name=valueA'))).toBe(false);
    });

    it('§3.1.1.4 escnull: escaped NULs in user parts do not shorten them; two distinct contacts', () => {
      // Act
      const m = valid('escnull');
      // Assess
      expect(unescapeUriPart(m.to().uri.user ?? '')).toBe('null-\u0000-null');
      expect(contactsOf(m).contacts.map((c) => c.uri.user)).toEqual(['%00', '%00%00']);
      expect(urisEqual(contactsOf(m).contacts[0].uri, contactsOf(m).contacts[1].uri)).toBe(false);
      expect(m.header('Content-Length')).toBe('0');
    });

    it('§3.1.1.5 esc02: % is not an escape in methods, display names, branches or header names', () => {
      // Act
      const m = valid('esc02');
      // Assess
      expect(m.method).toBe('RE%47IST%45R');
      expect(m.to().displayName).toBe('%Z%45');
      expect(m.topVia()?.branch).toBe('z9hG4bK209%fzsnel234');
      expect(contactsOf(m).contacts.map((c) => c.uri.user)).toEqual(['alias1', 'alias3']);
      expect(m.header('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    });

    it('§3.1.1.6 lwsdisp: no LWS between display name and <', () => {
      // Act
      const m = valid('lwsdisp');
      // Assess
      expect(m.from().displayName).toBe('caller');
      expect(m.fromTag()).toBe('323');
    });

    it('§3.1.1.7 longreq: long values and 34 Via fields under many spellings', () => {
      // Act
      const m = valid('longreq');
      // Assess
      expect(m.to().uri.port).toBe(6000);
      expect(m.to().uri.params).toHaveLength(3);
      expect(m.fromTag()).toMatch(/^1(298){40,}2424$/);
      const vias = m.vias();
      expect(vias).toHaveLength(34);
      expect(vias.slice(0, 33).map((v) => v.host)).toEqual(Array.from({ length: 33 }, (_, i) => `sip${33 - i}.example.com`));
      expect(vias[33]).toMatchObject({ host: 'host.example.com', received: '192.0.2.5' });
      expect(vias[33].branch).toMatch(/^very(long)+branchvalue$/);
      expect(m.body.length).toBe(150);
    });

    it('§3.1.1.8 dblreq: octets after Content-Length in a datagram are ignored and never forwarded', () => {
      // Prepare
      const raw = torture('dblreq');
      // Act
      const m = valid('dblreq');
      const forwarded = m.serialize();
      // Assess
      expect(m.method).toBe('REGISTER');
      expect(m.callId()).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
      expect(m.body.length).toBe(0);
      expect(forwarded.length).toBeLessThan(raw.length);
      expect(forwarded.includes('INVITE')).toBe(false);
    });

    it('§3.1.1.9 semiuri: a semicolon in the Request-URI user part', () => {
      // Act
      const m = valid('semiuri');
      // Assess
      expect(m.sipRequestUri().user).toBe('user;par=u%40example.net');
      expect(unescapeUriPart(m.sipRequestUri().user ?? '')).toBe('user;par=u@example.net');
      expect(m.sipRequestUri().params).toEqual([]);
      expect(m.headerValues('Accept')).toEqual(['application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag']);
    });

    it('§3.1.1.10 transports: every Via transport, including an unknown one', () => {
      // Act
      const m = valid('transports');
      // Assess
      expect(m.vias().map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
      expect(m.callId()).toBe('transports.kijh4akdnaqjkwendsasfdj');
    });

    it('§3.1.1.12 unreason: a UTF-8 reason phrase', () => {
      // Act
      const m = valid('unreason');
      // Assess
      expect(m.status).toBe(200);
      expect(m.reasonPhrase).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
      expect(m.toTag()).toBe('2229');
      expect(m.body.length).toBe(154);
    });

    it('§3.1.1.13 noreason: an empty reason phrase', () => {
      // Act
      const m = valid('noreason');
      // Assess
      expect(m.status).toBe(100);
      expect(m.reasonPhrase).toBe('');
    });

    it.each(['wsinv', 'intmeth', 'esc01', 'escnull', 'esc02', 'lwsdisp', 'longreq', 'semiuri', 'transports', 'unreason', 'noreason'])(
      '%s serializes unchanged when not edited', (name) => {
        // Prepare
        const raw = torture(name);
        // Act
        const out = parseMessage(raw).serialize();
        // Assess
        expect(out.equals(raw)).toBe(true);
      });
  });

  describe('§3.1.2 invalid messages yield SipParseError or are handled as the RFC says', () => {
    it('§3.1.2.1 badinv01: empty Via and Contact parameters are rejected (Via unreadable, so no answer)', () => {
      // Act
      const err = rejection('badinv01');
      const contactErr = rejection('badinv01', (m) => m.contacts());
      // Assess
      expect(err.reason).toBe('Bad Via header');
      expect(err.answerable).toBe(false);
      expect(contactErr.reason).toBe('Bad Contact header');
    });

    it('§3.1.2.2 clerr: Content-Length beyond the datagram gets 400; on a stream the framer waits for more', () => {
      // Act
      const err = rejection('clerr');
      const events = new SipStreamFramer().push(torture('clerr'));
      // Assess
      expect(err.code).toBe('bad-content-length');
      expect(err.statusCode).toBe(400);
      expect(err.answerable).toBe(true);
      expect(err.responseContext?.callId).toBe('clerr.0ha0isndaksdjweiafasdk3');
      expect(events).toEqual([]);
    });

    it('§3.1.2.3 ncl: a negative Content-Length gets 400; on a stream it is a fatal framing error', () => {
      // Act
      const err = rejection('ncl');
      const [event] = new SipStreamFramer().push(torture('ncl'));
      // Assess
      expect(err.code).toBe('bad-content-length');
      expect(err.answerable).toBe(true);
      expect(event).toMatchObject({ kind: 'error', fatal: true });
    });

    it('§3.1.2.4 scalar02: CSeq beyond 2^32-1 gets 400; Max-Forwards 300 is bad; expiries clamp', () => {
      // Prepare
      const m = parseMessage(torture('scalar02'));
      // Act
      const err = rejection('scalar02');
      // Assess
      expect(err.reason).toBe('Bad CSeq header');
      expect(err.answerable).toBe(true);
      expect(() => m.maxForwards()).toThrow('Bad Max-Forwards header');
      expect(m.expires()).toBe(4294967295);
      expect(contactExpiresSec(contactsOf(m).contacts[0])).toBe(4294967295);
    });

    it('§3.1.2.5 scalarlg: a response with an out-of-range CSeq is rejected (and so dropped)', () => {
      // Act
      const err = rejection('scalarlg');
      // Assess
      expect(err.header).toBe('CSeq');
    });

    it('§3.1.2.6 quotbal: an unterminated quote in To gets 400', () => {
      // Act
      const err = rejection('quotbal');
      // Assess
      expect(err.reason).toBe('Bad To header');
      expect(err.answerable).toBe(true);
    });

    it.each([
      ['§3.1.2.7 ltgtruri: Request-URI in <>', 'ltgtruri'],
      ['§3.1.2.8 lwsruri: LWS inside the Request-URI', 'lwsruri'],
      ['§3.1.2.9 lwsstart: several SP between start-line elements', 'lwsstart'],
      ['§3.1.2.10 trws: SP after the SIP-Version', 'trws'],
      ['§3.1.2.11 escruri: escaped headers in the Request-URI', 'escruri'],
    ])('%s gets 400', (_title, name) => {
      // Act
      const err = rejection(name, () => undefined);
      // Assess
      expect(['bad-start-line', 'bad-uri']).toContain(err.code);
      expect(err.statusCode).toBe(400);
      expect(err.answerable).toBe(true);
    });

    it('§3.1.2.12 baddate: a non-GMT Date is accepted as the RFC permits, since Date is not interpreted', () => {
      // Act
      const m = valid('baddate');
      // Assess
      expect(m.header('Date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
    });

    it('§3.1.2.13 regbadct: an addr-spec Contact with URI headers is a bad Contact (400)', () => {
      // Act
      const err = rejection('regbadct', (m) => m.contacts());
      // Assess
      expect(err.reason).toBe('Bad Contact header');
      expect(err.answerable).toBe(true);
    });

    it('§3.1.2.14 badaspec: spaces inside <> in To get 400', () => {
      // Act
      const err = rejection('badaspec', (m) => m.to());
      // Assess
      expect(err.reason).toBe('Bad To header');
      expect(err.answerable).toBe(true);
    });

    it('§3.1.2.15 baddn: unquoted display names with commas (and no empty line) get 400', () => {
      // Act
      const err = rejection('baddn', () => undefined);
      const withEnd = (() => {
        try {
          parseMessage(Buffer.concat([torture('baddn'), Buffer.from('\r\n')])).from();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      // Assess
      expect(err.statusCode).toBe(400);
      expect(err.answerable).toBe(true);
      expect(withEnd).toBeInstanceOf(SipParseError);
    });

    it('§3.1.2.16 badvers: SIP/7.0 gets 505', () => {
      // Act
      const err = rejection('badvers', () => undefined);
      // Assess
      expect(err.code).toBe('unsupported-version');
      expect(err.statusCode).toBe(505);
      expect(err.answerable).toBe(true);
    });

    it.each([
      ['§3.1.2.17 mismatch01', 'mismatch01'],
      ['§3.1.2.18 mismatch02 (400 is acceptable per the RFC)', 'mismatch02'],
    ])('%s: CSeq method differing from the request method gets 400', (_title, name) => {
      // Act
      const err = rejection(name);
      // Assess
      expect(err.header).toBe('CSeq');
      expect(err.answerable).toBe(true);
    });

    it('§3.1.2.19 bigcode: a status code above 699 is rejected (responses are dropped)', () => {
      // Act
      const err = rejection('bigcode', () => undefined);
      // Assess
      expect(err.code).toBe('bad-start-line');
    });
  });

  describe('§3.2–§3.4 transaction and application layer messages parse for the layers above', () => {
    it('§3.2.1 badbranch: a bare magic cookie is left to the transaction layer', () => {
      // Act / Assess
      expect(valid('badbranch').topVia()?.branch).toBe('z9hG4bK');
    });

    it('§3.3.1 insuf: missing From, To, Call-ID cannot be answered', () => {
      // Act
      const err = rejection('insuf');
      // Assess
      expect(err.code).toBe('missing-header');
      expect(err.answerable).toBe(false);
    });

    it.each(['unkscm', 'novelsc'])('§3.3.2/3 %s: a Request-URI of an unknown scheme parses but is not a SIP URI', (name) => {
      // Act
      const m = valid(name);
      // Assess
      expect(() => m.sipRequestUri()).toThrow(SipParseError);
    });

    it('§3.3.4 unksm2: unknown URI schemes in To/From/Contact are readable only as far as the tags', () => {
      // Act
      const m = valid('unksm2');
      // Assess
      expect(m.fromTag()).toBe('3234233');
      expect(() => m.to()).toThrow('Bad To header');
      expect(() => m.contacts()).toThrow('Bad Contact header');
    });

    it('§3.3.5 bext01: unknown option tags are listed', () => {
      // Act / Assess
      expect(valid('bext01').require()).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
    });

    it('§3.3.7 regaut01: an unknown authorization scheme still counts as credentials', () => {
      // Act / Assess
      expect(valid('regaut01').hasAuthorization()).toBe(true);
    });

    it('§3.3.8 multi01: several From, To, Call-ID, CSeq and Max-Forwards get 400', () => {
      // Act
      const err = rejection('multi01');
      // Assess
      expect(err.code).toBe('bad-header');
      expect(err.answerable).toBe(true);
    });

    it('§3.3.9 mcl01: conflicting Content-Length values get 400', () => {
      // Act
      const err = rejection('mcl01', () => undefined);
      // Assess
      expect(err.code).toBe('bad-content-length');
    });

    it.each(['invut', 'bcast', 'sdp01', 'inv2543'])('§3.3/§3.4 %s parses', (name) => {
      // Act / Assess
      expect(() => valid(name)).not.toThrow();
    });

    it('§3.3.11 zeromf: Max-Forwards 0 is read as 0', () => {
      // Act / Assess
      expect(valid('zeromf').maxForwards()).toBe(0);
    });

    it('§3.3.12/13 cparam01/02: parameters follow the addr-spec and name-addr rules of RFC 3261 §20', () => {
      // Act
      const addrSpec = contactsOf(valid('cparam01')).contacts[0];
      const nameAddr = contactsOf(valid('cparam02')).contacts[0];
      // Assess
      expect(addrSpec.params).toEqual([{ name: 'unknownparam' }]);
      expect(addrSpec.uri.params).toEqual([]);
      expect(nameAddr.params).toEqual([]);
      expect(nameAddr.uri.params).toEqual([{ name: 'unknownparam' }]);
    });

    it('§3.3.14 regescrt: a bracketed contact may carry URI headers', () => {
      // Act / Assess
      expect(contactsOf(valid('regescrt')).contacts[0].uri.headers).toBe('Route=%3Csip:sip.example.com%3E');
    });
  });
});
