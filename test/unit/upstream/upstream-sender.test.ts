import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { OutgoingRegister } from '../../../functions/core/timed-work';
import { openSipClientChannel, type UpstreamChannel } from '../../../functions/upstream/upstream-channel';
import { createUpstreamSender } from '../../../functions/upstream/upstream-sender';
import { createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';
import { createSipTransportCodec } from '../../../sip-gateway/src/transport/sip-transport-codec';
import { DEFAULT_SIP_LIMITS } from '../../../sip-gateway/src/sip/limits';

type Answer = (request: SipMessage, transmission: number) => { status: number; reason: string; headers?: Array<[string, string]> } | undefined;

interface UdpResponder {
  port: number;
  /** Raw requests received, with their source port. */
  received: Array<{ text: string; sourcePort: number }>;
  close(): Promise<void>;
}

/** A UDP responder on 127.0.0.1 that answers each datagram with `answer` (undefined: stay silent). */
async function startUdpResponder(answer: Answer): Promise<UdpResponder> {
  const socket = dgram.createSocket('udp4');
  const received: UdpResponder['received'] = [];
  socket.on('message', (datagram, rinfo) => {
    received.push({ text: datagram.toString('utf8'), sourcePort: rinfo.port });
    const request = parseMessage(datagram);
    const reply = answer(request, received.length);
    if (reply === undefined) return;
    const response = createResponse(request, reply.status, reply.reason, { toTag: 'up1', headers: reply.headers ?? [] });
    // RFC 3581 §4: answer to the source address and port.
    socket.send(response.serialize(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

function deregister(port: number, overrides: Partial<OutgoingRegister> = {}): OutgoingRegister {
  return {
    workId: 'w1',
    attemptId: 'a1',
    purpose: 'deregister',
    requestUri: 'sip:example.com',
    outboundProxy: `127.0.0.1:${port}`,
    sourceUri: 'sip:127.0.0.1:5060',
    timeoutMs: 2_000,
    headers: [
      ['From', '<sip:alice@example.com>;tag=new1'],
      ['To', '<sip:alice@example.com>'],
      ['Call-ID', 'c1'],
      ['CSeq', '5 REGISTER'],
      ['Contact', '<sip:alice@127.0.0.1:5060;ctid=111>;expires=0'],
      ['Max-Forwards', '70'],
    ],
    contactUri: 'sip:alice@127.0.0.1:5060;ctid=111',
    expiresSec: 0,
    ...overrides,
  };
}

describe('upstream sender (loopback)', () => {
  let channel: UpstreamChannel;
  const responders: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    channel = await openSipClientChannel({ bindHost: '127.0.0.1' });
  });
  afterEach(async () => {
    await Promise.all(responders.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await channel.close();
  });

  it('DRG-5, FWD-9: sends the planned REGISTER with our Via (sent-by = the socket it leaves from, rport) and reads g and the contact from the 2xx', async () => {
    // Prepare
    const responder = await startUdpResponder(() => ({
      status: 200,
      reason: 'OK',
      headers: [['Contact', '<sip:alice@127.0.0.1:5060;ctid=111>;expires=0']],
    }));
    responders.push(responder);
    const sender = createUpstreamSender(channel);

    // Act
    const outcome = await sender.send(deregister(responder.port));

    // Assess
    expect(outcome).toEqual({ kind: '2xx', grantedExpiresSec: 0, contactAsReturned: 'sip:alice@127.0.0.1:5060;ctid=111' });
    const [first] = responder.received;
    const request = parseMessage(Buffer.from(first!.text));
    expect(request.method).toBe('REGISTER');
    expect(request.requestUri).toBe('sip:example.com');
    const via = request.topVia()!;
    expect(via.transport).toBe('UDP');
    expect(via.host).toBe('127.0.0.1');
    expect(via.port).toBe(first!.sourcePort);
    expect(via.rport).toBeNull();
    expect(via.branch).toMatch(/^z9hG4bK/);
    expect(request.header('Contact')).toBe('<sip:alice@127.0.0.1:5060;ctid=111>;expires=0');
    expect(request.cseq()).toEqual({ seq: 5, method: 'REGISTER' });
    expect(request.header('Content-Length')).toBe('0');
    expect(request.hasAuthorization()).toBe(false);
  });

  it('DRG-6: a 503 is reported with its Retry-After; a 401 with its challenge (DRG-11)', async () => {
    // Prepare
    const responder = await startUdpResponder((request) =>
      request.cseq().seq === 5
        ? { status: 503, reason: 'Service Unavailable', headers: [['Retry-After', '20']] }
        : { status: 401, reason: 'Unauthorized', headers: [['WWW-Authenticate', 'Digest realm="example.com", nonce="n1"']] },
    );
    responders.push(responder);
    const sender = createUpstreamSender(channel);

    // Act
    const unavailable = await sender.send(deregister(responder.port));
    const challenged = await sender.send(deregister(responder.port, { headers: deregister(0).headers.map(([k, v]) => [k, k === 'CSeq' ? '6 REGISTER' : v]) }));

    // Assess
    expect(unavailable).toEqual({ kind: 'failure', status: 503, retryAfterSec: 20 });
    expect(challenged).toEqual({ kind: 'failure', status: 401, challenge: 'Digest realm="example.com", nonce="n1"' });
  });

  it('RFC 3261 §17.1.2.2: over UDP the request is retransmitted (Timer E) until answered', async () => {
    // Prepare: silent to the first transmission.
    const responder = await startUdpResponder((_, transmission) => (transmission === 1 ? undefined : { status: 200, reason: 'OK' }));
    responders.push(responder);
    const sender = createUpstreamSender(channel);

    // Act
    const outcome = await sender.send(deregister(responder.port));

    // Assess: no contact in the 2xx, no Expires: g is left to the core (RPL-4, the E sent).
    expect(outcome).toEqual({ kind: '2xx' });
    expect(responder.received.length).toBeGreaterThanOrEqual(2);
  });

  it('RPL-9, DRG-6: no final response within upstreamTimeout is a timeout', async () => {
    // Prepare
    const responder = await startUdpResponder(() => undefined);
    responders.push(responder);
    const sender = createUpstreamSender(channel);

    // Act
    const outcome = await sender.send(deregister(responder.port, { timeoutMs: 700 }));

    // Assess
    expect(outcome).toEqual({ kind: 'timeout' });
  });

  it('DRG-6: a next hop that does not resolve is a transport error (retried), not a crash', async () => {
    // Prepare
    const sender = createUpstreamSender(channel, {
      resolveHost: async () => {
        throw new Error('ENOTFOUND');
      },
    });

    // Act
    const outcome = await sender.send(deregister(0, { outboundProxy: 'registrar.invalid:5060' }));

    // Assess
    expect(outcome).toEqual({ kind: 'transport-error' });
  });

  it('sends over TCP when the next hop says transport=tcp, and reads the answer from the same connection', async () => {
    // Prepare
    const codec = createSipTransportCodec();
    const seen: SipMessage[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const framer = codec.createStreamFramer(DEFAULT_SIP_LIMITS);
      socket.on('data', (chunk) => {
        for (const event of framer.push(chunk)) {
          if (event.kind !== 'message') continue;
          seen.push(event.message);
          socket.write(createResponse(event.message, 200, 'OK', { toTag: 't1', headers: [['Expires', '0']] }).serialize());
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    responders.push({
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    });
    const port = (server.address() as net.AddressInfo).port;
    const sender = createUpstreamSender(channel);

    // Act
    const outcome = await sender.send(deregister(port, { outboundProxy: `127.0.0.1:${port};transport=tcp` }));

    // Assess
    expect(outcome).toEqual({ kind: '2xx', grantedExpiresSec: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.topVia()!.transport).toBe('TCP');
  });
});
