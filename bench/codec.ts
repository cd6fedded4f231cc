/**
 * Codec micro-benchmark: messages per second for parsing and serializing a typical REGISTER and INVITE on
 * one core. Run with `npm run bench:codec` (esbuild bundles this file to dist/bench-codec.js).
 *
 * "index only" is `parseMessage` alone: start line, header line index, Content-Length framing.
 * "parse (registrar fields)" adds what a mid-registrar reads from every REGISTER: top Via branch and
 * sent-by, From tag, To URI, Call-ID, CSeq, the Contact list with expires and q, and Expires.
 */
import { cpus, loadavg } from 'node:os';
import { contactExpiresSec, contactQ } from '../sip-gateway/src/sip/contact';
import { createResponse, parseMessage, type SipMessage } from '../sip-gateway/src/sip/message';

const REGISTER = Buffer.from([
  'REGISTER sip:registrar.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---a1b2c3d4;rport',
  'Max-Forwards: 70',
  'Contact: <sip:alice@192.0.2.10:5060;transport=udp;ob>;expires=3600;q=0.8;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1',
  'To: "Alice" <sip:alice@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=37GkEhwl6',
  'Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10',
  'CSeq: 2 REGISTER',
  'Expires: 3600',
  'Supported: path, outbound, gruu',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY',
  'User-Agent: ExamplePhone/1.0',
  'Content-Length: 0',
  '', '',
].join('\r\n'), 'latin1');

const SDP = [
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.101', 's=-', 'c=IN IP4 192.0.2.101', 't=0 0',
  'm=audio 49172 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', '',
].join('\r\n');

const INVITE = Buffer.from([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776asdhds;rport',
  'Via: SIP/2.0/TCP proxy.atlanta.example.com:5060;branch=z9hG4bK4b43c2ff8.1',
  'Max-Forwards: 69',
  'Record-Route: <sip:proxy.atlanta.example.com;lr>',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@198.51.100.7:5060>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
  'Supported: replaces, timer',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '', SDP,
].join('\r\n'), 'latin1');

let sink = 0;

function readRegistrarFields(m: SipMessage): void {
  const via = m.topVia();
  sink += (via?.branch?.length ?? 0) + (via?.host.length ?? 0) + (via?.port ?? 0);
  sink += m.fromTag()?.length ?? 0;
  sink += m.to().uri.host.length;
  sink += m.callId().length;
  sink += m.cseq().seq;
  const contacts = m.contacts();
  if (!contacts.star) {
    for (const c of contacts.contacts) sink += (contactExpiresSec(c) ?? 0) + (contactQ(c) ?? 0);
  }
  sink += m.expires() ?? 0;
}

function readProxyFields(m: SipMessage): void {
  const via = m.topVia();
  sink += (via?.branch?.length ?? 0) + (via?.host.length ?? 0);
  sink += m.fromTag()?.length ?? 0;
  sink += m.to().uri.host.length;
  sink += m.callId().length + m.cseq().seq + (m.maxForwards() ?? 0);
  sink += m.recordRoutes().length + m.routes().length;
}

interface Case {
  name: string;
  run: () => void;
}

const cases: Case[] = [
  { name: 'REGISTER index only', run: () => { sink += parseMessage(REGISTER).method.length; } },
  { name: 'REGISTER parse (registrar fields)', run: () => readRegistrarFields(parseMessage(REGISTER)) },
  {
    name: 'REGISTER parse + 200 OK build + serialize',
    run: () => {
      const m = parseMessage(REGISTER);
      readRegistrarFields(m);
      sink += createResponse(m, 200, 'OK', { toTag: 'a1b2', headers: [['Contact', '<sip:alice@192.0.2.10:5060>;expires=3600']] }).serialize().length;
    },
  },
  {
    name: 'REGISTER serialize after proxy edit',
    run: () => {
      const m = parseMessage(REGISTER);
      m.prependHeader('Via', 'SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKproxy1');
      m.setHeader('Max-Forwards', ['69']);
      sink += m.serialize().length;
    },
  },
  { name: 'INVITE index only', run: () => { sink += parseMessage(INVITE).method.length; } },
  { name: 'INVITE parse (proxy fields)', run: () => readProxyFields(parseMessage(INVITE)) },
  {
    name: 'INVITE serialize after proxy edit',
    run: () => {
      const m = parseMessage(INVITE);
      m.prependHeader('Via', 'SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKproxy1');
      m.setRequestUri('sip:bob@192.0.2.44:5062');
      m.setHeader('Max-Forwards', ['68']);
      sink += m.serialize().length;
    },
  },
];

interface Rate {
  /** Operations per second of process CPU time: what one core achieves, unaffected by other load. */
  cpu: number;
  /** Operations per second of elapsed time: lower when other processes share the cores. */
  wall: number;
}

/** Runs `run` for about `durationMs` of elapsed time. */
function measure(run: () => void, durationMs: number): Rate {
  const batch = 1000;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const end = start + BigInt(durationMs) * 1_000_000n;
  let ops = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) run();
    ops += batch;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (ops * 1e6) / (cpu.user + cpu.system), wall: (ops * 1e9) / Number(now - start) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  const rounds = 7;
  const roundMs = 400;
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(`SIP codec benchmark — node ${process.version}, single thread, ${rounds} rounds of ${roundMs} ms, medians`);
  console.log(`REGISTER ${REGISTER.length} bytes, INVITE ${INVITE.length} bytes; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores\n`);
  const rows: string[][] = [['case', 'msg/s per core (CPU time)', 'best round', 'µs CPU/msg', 'msg/s (wall clock)']];
  for (const c of cases) {
    measure(c.run, 300); // warm-up: let the JIT settle
    const results: Rate[] = [];
    for (let r = 0; r < rounds; r++) results.push(measure(c.run, roundMs));
    const cpuRate = median(results.map((x) => x.cpu));
    const best = Math.max(...results.map((x) => x.cpu));
    rows.push([c.name, fmt(cpuRate), fmt(best), (1e6 / cpuRate).toFixed(2), fmt(median(results.map((x) => x.wall)))]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (sink === 42) console.log('');
}

main();
