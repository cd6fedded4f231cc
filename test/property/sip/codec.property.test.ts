import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SipParseError } from '../../../sip-gateway/src/sip/errors';
import { createRequest, createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';
import { formatNameAddr, type NameAddr, parseNameAddr } from '../../../sip-gateway/src/sip/name-addr';
import { SipStreamFramer } from '../../../sip-gateway/src/sip/stream-framer';
import { formatUri, parseUri, type SipUri, urisEqual } from '../../../sip-gateway/src/sip/uri';
import { formatVia, parseVia, type Via } from '../../../sip-gateway/src/sip/via';

// ---- generators for valid SIP parts (RFC 3261 §25.1) ----

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const lowerWord = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostname = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const host = fc.oneof(hostname, fc.ipV4(), fc.ipV6().map((a) => `[${a}]`));
const escaped = fc.integer({ min: 0, max: 255 }).map((b) => '%' + b.toString(16).padStart(2, '0').toUpperCase());
const userChars = fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()&=+$,;?/]{1,10}$/);
const user = fc.array(fc.oneof(userChars, escaped), { minLength: 1, maxLength: 3 }).map((p) => p.join(''));
const paramValue = fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()[\]/:&+$]{1,10}$/);
const uriParams = fc.array(fc.record({ name: lowerWord, value: fc.option(paramValue, { nil: undefined }) }), { maxLength: 3 })
  .map((ps) => ps.map((p) => (p.value === undefined ? { name: p.name } : { name: p.name, value: p.value })));

const sipUri: fc.Arbitrary<SipUri> = fc.record({
  scheme: fc.constantFrom<'sip' | 'sips'>('sip', 'sips'),
  user: fc.option(user, { nil: undefined }),
  host,
  port: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
  params: uriParams,
}).map((u) => {
  const out: SipUri = { scheme: u.scheme, host: u.host, params: u.params };
  if (u.user !== undefined) out.user = u.user;
  if (u.port !== undefined) out.port = u.port;
  return out;
});

const headerParams = fc.array(fc.record({
  name: lowerWord,
  value: fc.option(fc.oneof(token, fc.stringMatching(/^"[A-Za-z0-9 <>:;,.@=-]{0,12}"$/)), { nil: undefined }),
}), { maxLength: 3 }).map((ps) => ps.map((p) => (p.value === undefined ? { name: p.name } : { name: p.name, value: p.value })));

const nameAddr: fc.Arbitrary<NameAddr> = fc.record({
  displayName: fc.option(fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)), { nil: undefined }),
  uri: sipUri,
  params: headerParams,
}).map((n) => (n.displayName === undefined ? { uri: n.uri, params: n.params } : n));

const via: fc.Arbitrary<Via> = fc.record({
  transport: fc.constantFrom('UDP', 'TCP', 'TLS', 'SCTP', 'WS'),
  host,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  branch: token.map((t) => 'z9hG4bK' + t),
  rport: fc.boolean(),
}).map((v) => {
  const params = [{ name: 'branch', value: v.branch }, ...(v.rport ? [{ name: 'rport' }] : [])];
  const out: Via = { protocol: 'SIP/2.0', transport: v.transport, host: v.host, params };
  if (v.port !== undefined) out.port = v.port;
  return out;
});

const extensionHeader = fc.tuple(
  fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ' ').trim()),
);

interface Parts { method: string; requestUri: string; vias: Via[]; from: NameAddr; to: NameAddr; callId: string; cseq: number; extra: Array<[string, string]>; body: Uint8Array; status: number }

const parts: fc.Arbitrary<Parts> = fc.record({
  method: fc.constantFrom('REGISTER', 'INVITE', 'OPTIONS', 'MESSAGE', 'BYE'),
  requestUri: sipUri.map(formatUri),
  vias: fc.array(via, { minLength: 1, maxLength: 3 }),
  from: nameAddr,
  to: nameAddr,
  callId: fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]{1,20}(@[a-z0-9.]{1,10})?$/),
  cseq: fc.integer({ min: 0, max: 4294967295 }),
  extra: fc.array(extensionHeader, { maxLength: 4 }),
  body: fc.uint8Array({ maxLength: 200 }),
  status: fc.integer({ min: 100, max: 699 }),
});

function buildRequest(p: Parts): SipMessage {
  return createRequest({
    method: p.method,
    requestUri: p.requestUri,
    headers: [
      ...p.vias.map((v): [string, string] => ['Via', formatVia(v)]),
      ['From', formatNameAddr(p.from)], ['To', formatNameAddr(p.to)], ['Call-ID', p.callId],
      ['CSeq', `${p.cseq} ${p.method}`], ['Max-Forwards', '70'], ...p.extra,
    ],
    body: Buffer.from(p.body),
  });
}

/** Everything a parsed message exposes, for deep comparison. */
function view(m: SipMessage): unknown {
  return {
    isRequest: m.isRequest, method: m.method, requestUri: m.requestUri, status: m.status, reasonPhrase: m.reasonPhrase,
    fields: m.headerFields(), body: m.body.toString('hex'),
  };
}

/** Exercises every accessor; only SipParseError may escape. */
function exercise(m: SipMessage): void {
  const accessors: Array<() => unknown> = [
    () => m.validate(), () => m.vias(), () => m.topVia(), () => m.from(), () => m.to(), () => m.fromTag(), () => m.toTag(),
    () => m.callId(), () => m.cseq(), () => m.maxForwards(), () => m.expires(), () => m.contacts(), () => m.routes(),
    () => m.recordRoutes(), () => m.paths(), () => m.supported(), () => m.require(), () => m.hasAuthorization(),
    () => m.sipRequestUri(), () => m.responseContext(), () => m.headerFields(), () => parseMessage(m.serialize()),
  ];
  for (const access of accessors) {
    try {
      access();
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
}

function parseAndExercise(bytes: Uint8Array): void {
  try {
    exercise(parseMessage(Buffer.from(bytes)));
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
  }
}

const FIXTURES = join(__dirname, '../../fixtures/sip');
const corpus: Buffer[] = [
  readFileSync(join(FIXTURES, 'register.sip')),
  readFileSync(join(FIXTURES, 'invite.sip')),
  ...readdirSync(join(FIXTURES, 'rfc4475')).filter((f) => f.endsWith('.dat')).map((f) => readFileSync(join(FIXTURES, 'rfc4475', f))),
];

/** Byte-level mutations of a seed message: flips, insertions, deletions, duplications and cuts. */
const mutated: fc.Arbitrary<Buffer> = fc.tuple(
  fc.constantFrom(...corpus),
  fc.array(fc.tuple(fc.constantFrom('flip', 'insert', 'delete', 'dup', 'cut'), fc.nat(), fc.nat({ max: 64 }), fc.uint8Array({ minLength: 1, maxLength: 8 })), { minLength: 1, maxLength: 6 }),
).map(([seed, ops]) => {
  let b = Buffer.from(seed);
  for (const [op, at, len, bytes] of ops) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (op === 'flip' && b.length > 0) b[i] = bytes[0];
    else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
    else if (op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + len)]);
    else if (op === 'dup') b = Buffer.concat([b.subarray(0, i + len), b.subarray(i)]);
    else if (op === 'cut') b = b.subarray(0, i);
  }
  return b;
});

describe('SIP codec properties', () => {
  it('URIs, name-addrs and Vias round-trip through format and parse', () => {
    fc.assert(fc.property(sipUri, nameAddr, via, (u, na, v) => {
      // Act
      const u2 = parseUri(formatUri(u));
      const na2 = parseNameAddr(formatNameAddr(na));
      const v2 = parseVia(formatVia(v));
      // Assess
      expect(u2).toEqual(u);
      expect(urisEqual(u2, u)).toBe(true);
      expect(na2).toEqual(na);
      expect(v2.params).toEqual(v.params);
      expect([v2.transport, v2.host, v2.port]).toEqual([v.transport, v.host, v.port]);
    }), { numRuns: 300 });
  });

  it('parse(serialize(m)) equals m for created, parsed and edited messages', () => {
    fc.assert(fc.property(parts, via, sipUri, (p, newVia, newUri) => {
      // Prepare
      const created = buildRequest(p);
      const parsed = parseMessage(created.serialize());
      // Act
      const again = parseMessage(parsed.serialize());
      const edited = parsed.clone();
      edited.prependHeader('Via', formatVia(newVia));
      edited.setRequestUri(formatUri(newUri));
      edited.removeHeader(p.extra[0]?.[0] ?? 'X-None');
      edited.setHeader('Max-Forwards', ['69']);
      const editedAgain = parseMessage(edited.serialize());
      // Assess
      expect(view(again)).toEqual(view(parsed));
      expect(parsed.headerFields().filter(([n]) => n !== 'Content-Length')).toEqual(created.headerFields());
      expect(parsed.body.equals(Buffer.from(p.body))).toBe(true);
      expect(() => parsed.validate()).not.toThrow();
      expect(parsed.cseq()).toEqual({ seq: p.cseq, method: p.method });
      expect(parsed.vias().map((v) => v.branch)).toEqual(p.vias.map((v) => v.params[0].value));
      expect(view(editedAgain)).toEqual(view(edited));
      expect(editedAgain.topVia()?.branch).toBe(newVia.params[0].value);
    }), { numRuns: 300 });
  });

  it('responses built by createResponse parse back with the request identifiers', () => {
    fc.assert(fc.property(parts, token, (p, tag) => {
      // Prepare
      const request = parseMessage(buildRequest(p).serialize());
      // Act
      const response = parseMessage(createResponse(request, p.status, 'Reason', { toTag: tag }).serialize());
      // Assess
      expect(response.status).toBe(p.status);
      expect(response.headerValues('Via')).toEqual(request.headerValues('Via'));
      expect(response.callId()).toBe(request.callId());
      expect(response.cseq()).toEqual(request.cseq());
      expect(response.toTag()).toBe(request.toTag() ?? tag);
    }), { numRuns: 200 });
  });

  it('compact and long names in any letter case give the same typed values (RFC 3261 §7.3.3)', () => {
    const spell = (long: string, compact: string): fc.Arbitrary<string> =>
      fc.tuple(fc.constantFrom(long, compact), fc.array(fc.boolean(), { minLength: long.length, maxLength: long.length }))
        .map(([n, ups]) => [...n].map((ch, i) => (ups[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
    fc.assert(fc.property(parts, spell('Via', 'v'), spell('From', 'f'), spell('To', 't'), spell('Call-ID', 'i'), spell('Contact', 'm'),
      (p, v, f, t, i, m) => {
        // Prepare
        const lines = [`REGISTER sip:example.com SIP/2.0`, `${v}: ${formatVia(p.vias[0])}`, `${f}: ${formatNameAddr(p.from)}`,
          `${t}: ${formatNameAddr(p.to)}`, `${i}: ${p.callId}`, `CSeq: 1 REGISTER`, `${m}: <sip:a@192.0.2.1>;expires=60`, 'Content-Length: 0'];
        // Act
        const msg = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'));
        // Assess
        expect(msg.topVia()?.params).toEqual(p.vias[0].params);
        expect(msg.from()).toEqual(parseNameAddr(formatNameAddr(p.from)));
        expect(msg.callId()).toBe(p.callId);
        expect(msg.contacts()).toMatchObject({ star: false, contacts: [{ params: [{ name: 'expires', value: '60' }] }] });
      }), { numRuns: 200 });
  });

  it('folding a header value does not change what it means (RFC 3261 §7.3.1)', () => {
    fc.assert(fc.property(parts, fc.constantFrom(' ', '\t', '   '), (p, ws) => {
      // Prepare
      const value = formatNameAddr(p.to);
      // LWS may stand between the name-addr and its parameters (RFC 3261 §25.1 SEMI = SWS ";" SWS).
      const cut = formatNameAddr({ ...p.to, params: [] }).length;
      const folded = `${value.slice(0, cut)}\r\n${ws}${value.slice(cut)}`;
      const build = (to: string): Buffer => Buffer.from(`OPTIONS sip:x SIP/2.0\r\nTo: ${to}\r\nContent-Length: 0\r\n\r\n`, 'utf8');
      // Act
      const plain = parseMessage(build(value)).to();
      const unfolded = parseMessage(build(folded)).to();
      // Assess
      expect(unfolded).toEqual(plain);
    }), { numRuns: 200 });
  });

  it('arbitrary bytes never throw anything but SipParseError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
      // Act / Assess
      parseAndExercise(bytes);
    }), { numRuns: 1000 });
  });

  it('arbitrary text made of SIP-ish tokens never throws anything but SipParseError', () => {
    const piece = fc.constantFrom('INVITE ', 'SIP/2.0', ' ', '\r\n', '\n', ':', ';', ',', '<', '>', '"', '\\', 'sip:', '@', 'Via', 'v',
      'Content-Length', 'l', 'CSeq', 'From', 'To', 'Call-ID', 'Contact', 'm', '*', 'tag=', 'branch=', 'z9hG4bK', '0', '99999999999', '-1', '%', '%00', '[', ']', '\t', '=', '?');
    fc.assert(fc.property(fc.array(piece, { maxLength: 120 }), (pieces) => {
      // Act / Assess
      parseAndExercise(Buffer.from(pieces.join(''), 'latin1'));
    }), { numRuns: 1000 });
  });

  it('mutated real messages never throw anything but SipParseError', () => {
    fc.assert(fc.property(mutated, (bytes) => {
      // Act / Assess
      parseAndExercise(bytes);
    }), { numRuns: 1500 });
  });

  it('the stream framer never throws on arbitrary chunks and emits only what was pushed', () => {
    fc.assert(fc.property(fc.array(fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))), { maxLength: 6 }), fc.nat({ max: 50 }),
      (chunks, split) => {
        // Prepare
        const framer = new SipStreamFramer({ maxMessageBytes: 4096, maxHeaderLines: 200, maxLineBytes: 8192 });
        const all = Buffer.concat(chunks);
        let emitted = 0;
        // Act
        for (let i = 0; i < all.length; i += split + 1) {
          for (const ev of framer.push(all.subarray(i, i + split + 1))) {
            if (ev.kind === 'message') {
              emitted += ev.data.length;
              parseAndExercise(ev.data);
            } else if (ev.kind === 'keepalive-ping') emitted += 4;
            else if (ev.kind === 'keepalive-pong') emitted += 2;
            else expect(ev.error).toBeInstanceOf(SipParseError);
          }
        }
        // Assess
        expect(emitted + framer.bufferedBytes).toBeLessThanOrEqual(all.length);
      }), { numRuns: 500 });
  });
});
