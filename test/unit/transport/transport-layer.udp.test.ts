import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { DEFAULT_SIP_LIMITS } from '../../../sip-gateway/src/sip/limits';
import { createResponse, type SipMessage } from '../../../sip-gateway/src/sip/message';
import { createLogger } from '../../../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../../../sip-gateway/src/observability/metrics-registry';
import { createSipTransportCodec } from '../../../sip-gateway/src/transport/sip-transport-codec';
import { TransportSendError } from '../../../sip-gateway/src/transport/errors';
import { TRANSPORT_METRICS, TransportLayer } from '../../../sip-gateway/src/transport/transport-layer';
import type { Flow } from '../../../sip-gateway/src/transport/flow';

/** A UDP peer on loopback that records what it receives. */
class UdpPeer {
  readonly received: Array<{ text: string; port: number }> = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: dgram.Socket, readonly port: number) {
    socket.on('message', (data, remote) => {
      this.received.push({ text: data.toString('utf8'), port: remote.port });
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  static async open(): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new UdpPeer(socket, socket.address().port);
  }

  send(text: string | Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof text === 'string' ? Buffer.from(text) : text, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }

  async next(timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (Date.now() > deadline) throw new Error('nothing received');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.shift()!.text;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function options(viaHost: string, viaPort: number, extra = ''): string {
  return [
    'OPTIONS sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP ${viaHost}:${viaPort};branch=z9hG4bK-1;rport`,
    'From: <sip:probe@example.com>;tag=f1',
    'To: <sip:127.0.0.1>',
    'Call-ID: call-1@test',
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    extra,
    'Content-Length: 0',
    '',
    '',
  ].filter((line, index, all) => line !== '' || index >= all.length - 2).join('\r\n');
}

/** Gives a port on which nothing listens (bound, then released). */
async function deadPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('Class: TransportLayer (UDP)', () => {
  let transport: TransportLayer<SipMessage>;
  let metrics: MetricsRegistry;
  let port: number;
  let peer: UdpPeer;
  let inbox: Array<{ message: SipMessage; flow: Flow }>;

  async function start(overrides: Partial<ConstructorParameters<typeof TransportLayer<SipMessage>>[0]> = {}): Promise<void> {
    metrics = new MetricsRegistry({ namespace: 'test', write: () => undefined });
    transport = new TransportLayer<SipMessage>({
      codec: createSipTransportCodec(),
      limits: DEFAULT_SIP_LIMITS,
      metrics,
      ...overrides,
    });
    const [bound] = await transport.listen(['udp:127.0.0.1:0']);
    port = bound!.port;
    inbox = [];
    transport.onMessage((message, flow) => inbox.push({ message, flow }));
  }

  async function waitForInbox(count: number): Promise<void> {
    for (let i = 0; i < 100 && inbox.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  beforeEach(async () => {
    peer = await UdpPeer.open();
  });

  afterEach(async () => {
    await transport?.close();
    await peer.close();
  });

  it('PTH-1: stamps received and rport on the top Via and reports the flow', async () => {
    // Prepare
    await start();

    // Act
    await peer.send(options('10.0.0.9', 5999), port);
    await waitForInbox(1);

    // Assess
    expect(inbox).toHaveLength(1);
    const { message, flow } = inbox[0]!;
    expect(message.headerValues('Via')[0]).toBe(`SIP/2.0/UDP 10.0.0.9:5999;branch=z9hG4bK-1;rport=${peer.port};received=127.0.0.1`);
    expect(flow).toEqual({ transport: 'udp', localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: peer.port });
  });

  it('PTH-1: a response goes to received:rport, not to the sent-by in Via, from the receiving socket', async () => {
    // Prepare
    await start();
    await peer.send(options('127.0.0.1', await deadPort()), port);
    await waitForInbox(1);
    const { message, flow } = inbox[0]!;

    // Act
    await transport.sendResponse(createResponse(message, 200, 'OK', { toTag: 't1' }), flow);

    // Assess
    const response = await peer.next();
    expect(response).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(response).toContain(`rport=${peer.port};received=127.0.0.1`);
    expect(peer.received).toEqual([]);
  });

  it('PTH-1: an encoded response is routed once and its bytes re-sent unchanged, as a transaction retransmits it', async () => {
    // Prepare
    await start();
    await peer.send(options('127.0.0.1', await deadPort()), port);
    await waitForInbox(1);
    const { message, flow } = inbox[0]!;
    const response = createResponse(message, 200, 'OK', { toTag: 't1' });

    // Act
    const encoded = transport.encodeResponse(response, flow);
    await transport.send(encoded.bytes, encoded.target);
    await transport.send(new Uint8Array(encoded.bytes), encoded.target);

    // Assess
    expect(encoded.target).toMatchObject({ transport: 'udp', remoteAddress: '127.0.0.1', remotePort: peer.port, localPort: port });
    expect(encoded.bytes.toString('utf8')).toBe(response.serialize().toString('utf8'));
    expect(await peer.next()).toBe(encoded.bytes.toString('utf8'));
    expect(await peer.next()).toBe(encoded.bytes.toString('utf8'));
  });

  it('PTH-1: sendEncoded sends an encoded UDP response from the receiving socket, counted as sent', async () => {
    // Prepare
    await start();
    await peer.send(options('127.0.0.1', await deadPort()), port);
    await waitForInbox(1);
    const { message, flow } = inbox[0]!;
    const encoded = transport.encodeResponse(createResponse(message, 200, 'OK', { toTag: 't1' }), flow);
    const errors: unknown[] = [];

    // Act
    transport.sendEncoded(encoded.bytes, encoded.target, (error) => errors.push(error), undefined);

    // Assess
    expect(await peer.next()).toBe(encoded.bytes.toString('utf8'));
    expect(errors).toEqual([]);
    expect(metrics.snapshot().counters[TRANSPORT_METRICS.sent]).toBe(1);
  });

  it('§17.2.4: sendEncoded reports a UDP send that fails, later and once, with its context and target, and counts it', async () => {
    // Prepare
    await start();
    const target: Flow = { transport: 'udp', localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: 0 };
    const errors: { error: unknown; context: string; failedTarget: unknown }[] = [];

    // Act
    transport.sendEncoded(
      Buffer.from('SIP/2.0 200 OK\r\n\r\n'),
      target,
      (error, context, failedTarget) => errors.push({ error, context, failedTarget }),
      'transaction 1',
    );
    const reportedAtOnce = errors.length;
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(reportedAtOnce).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBeInstanceOf(TransportSendError);
    expect(errors[0]!.context).toBe('transaction 1');
    expect(errors[0]!.failedTarget).toBe(target);
    expect(metrics.snapshot().counters[TRANSPORT_METRICS.sendErrors]).toBe(1);
  });

  it('FWD-9: a request to a destination leaves from the listening socket', async () => {
    // Prepare
    await start();

    // Act
    const flow = await transport.send(Buffer.from(options('127.0.0.1', port)), { transport: 'udp', address: '127.0.0.1', port: peer.port });

    // Assess
    await peer.next();
    expect(flow.localPort).toBe(port);
    expect(metrics.snapshot().counters.sent_messages).toBe(1);
  });

  it('ERR-3: a request with a bad Max-Forwards is answered 400 with P-Registrar-Error and counted, never delivered', async () => {
    // Prepare
    await start();
    const bad = options('127.0.0.1', 5060).replace('Max-Forwards: 70', 'Max-Forwards: many');

    // Act
    await peer.send(bad, port);
    const response = await peer.next();

    // Assess
    expect(response).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(response).toContain('P-Registrar-Error: Bad Max-Forwards header');
    expect(response).toContain('Call-ID: call-1@test');
    expect(response).toMatch(/To: <sip:127\.0\.0\.1>;tag=[0-9a-f]{16}\r\n/);
    expect(inbox).toEqual([]);
    expect(metrics.snapshot().counters.malformed_messages).toBe(1);
  });

  it('ERR-3: unanswerable garbage is dropped and counted, and the next message is still handled', async () => {
    // Prepare
    await start();

    // Act
    await peer.send(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x0a]), port);
    await peer.send('INVITE nonsense\r\n\r\n', port);
    await peer.send(options('127.0.0.1', 5060), port);
    await waitForInbox(1);

    // Assess
    expect(inbox).toHaveLength(1);
    expect(peer.received).toEqual([]);
    expect(metrics.snapshot().counters).toMatchObject({ malformed_messages: 2, dropped_messages: 2 });
  });

  it('ERR-3: a malformed response is never answered', async () => {
    // Prepare
    await start();
    const badResponse = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1', 'From: <sip:a@b>;tag=1', 'To: <sip:a@b>', 'Call-ID: c', 'CSeq: nope', 'Content-Length: 0', '', ''].join('\r\n');

    // Act
    await peer.send(badResponse, port);
    await peer.send(options('127.0.0.1', 5060), port);
    await waitForInbox(1);

    // Assess
    expect(peer.received).toEqual([]);
    expect(metrics.snapshot().counters.malformed_messages).toBe(1);
  });

  it('ERR-4: a request over maxMessageSize is answered 513', async () => {
    // Prepare
    await start({ limits: { ...DEFAULT_SIP_LIMITS, maxMessageBytes: 1000 } });
    const big = options('127.0.0.1', 5060, `X-Padding: ${'a'.repeat(1200)}`);

    // Act
    await peer.send(big, port);
    const response = await peer.next();

    // Assess
    expect(response).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    expect(response).toContain('P-Registrar-Error: Message too large');
    expect(metrics.snapshot().counters).toMatchObject({ malformed_messages: 1, oversize_messages: 1 });
  });

  it('limits floods per source address, counting what it drops', async () => {
    // Prepare
    await start({ floodPerSource: { ratePerSec: 0.001, burst: 3 } });

    // Act
    for (let i = 0; i < 6; i += 1) await peer.send(options('127.0.0.1', 5060).replace('call-1@test', `call-${i}`), port);
    await waitForInbox(3);
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Assess
    expect(inbox).toHaveLength(3);
    expect(metrics.snapshot().counters.flood_limited_messages).toBe(3);
  });

  it('asks the kernel for the configured UDP receive buffer and logs what it granted', async () => {
    // Prepare
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const rmemMaxBytes = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    const requestedBytes = 1024 * 1024;

    // Act
    await start({ logger, udpRecvBufferBytes: requestedBytes });

    // Assess
    const granted = lines.find((line) => line.msg === 'udp socket buffers granted');
    expect(granted).toMatchObject({ listen: `udp:127.0.0.1:${port}` });
    // Linux doubles the value it stores and caps the request at rmem_max.
    expect(granted!.recvBufferBytes).toBeGreaterThanOrEqual(Math.min(requestedBytes, rmemMaxBytes));
  });

  it('by default lets a NAT or SBC send thousands of messages at once from one address', async () => {
    // Prepare
    await start();
    const count = 1500;

    // Act
    for (let i = 0; i < count; i += 1) {
      await peer.send(options('127.0.0.1', 5060).replace('call-1@test', `burst-${i}`), port);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (let i = 0; i < 200 && inbox.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));

    // Assess
    expect(metrics.snapshot().counters.flood_limited_messages ?? 0).toBe(0);
    expect(inbox).toHaveLength(count);
  });

  it('ERR-3: a handler that throws is counted and does not stop later messages', async () => {
    // Prepare
    await start();
    let calls = 0;
    transport.onMessage(() => {
      calls += 1;
      throw new Error('boom');
    });

    // Act
    await peer.send(options('127.0.0.1', 5060), port);
    await peer.send(options('127.0.0.1', 5060).replace('call-1@test', 'call-2'), port);
    await waitForInbox(2);

    // Assess
    expect(calls).toBe(2);
    expect(inbox).toHaveLength(2);
    expect(metrics.snapshot().counters.handler_errors).toBe(2);
  });

  it('ERR-3: random and mutated datagrams are each delivered or counted as malformed, and the layer keeps serving', async () => {
    // Prepare
    await start({ floodPerSource: { ratePerSec: 1e6, burst: 1e6 } });
    const valid = Buffer.from(options('127.0.0.1', 5060));
    const mutated = fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
      const copy = Buffer.from(valid);
      copy[at] = byte;
      return copy;
    });
    const datagrams = fc.sample(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)), mutated), { numRuns: 300, seed: 42 });
    const nonBlank = datagrams.filter((datagram) => datagram.some((byte) => ![9, 10, 13, 32].includes(byte)));

    // Act
    // Paced so that the loopback receive buffer never overflows: a lost datagram would prove nothing.
    for (const [index, datagram] of datagrams.entries()) {
      await peer.send(datagram, port);
      if (index % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await peer.send(options('127.0.0.1', 5060).replace('call-1@test', 'after-fuzz'), port);
    for (let i = 0; i < 200 && !inbox.some((entry) => entry.message.callId() === 'after-fuzz'); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));

    // Assess
    const counters = metrics.snapshot().counters;
    expect(inbox.some((entry) => entry.message.callId() === 'after-fuzz')).toBe(true);
    expect(inbox.length - 1 + (counters.malformed_messages ?? 0)).toBe(nonBlank.length);
  });
});
