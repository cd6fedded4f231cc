import * as net from 'node:net';
import { DEFAULT_SIP_LIMITS } from '../../../sip-gateway/src/sip/limits';
import { createResponse, type SipMessage } from '../../../sip-gateway/src/sip/message';
import { MetricsRegistry } from '../../../sip-gateway/src/observability/metrics-registry';
import { createSipTransportCodec } from '../../../sip-gateway/src/transport/sip-transport-codec';
import { TransportLayer, type TransportLayerOptions } from '../../../sip-gateway/src/transport/transport-layer';
import type { Flow } from '../../../sip-gateway/src/transport/flow';

/** A TCP client or accepted socket that accumulates what it receives. */
class StreamPeer {
  text = '';
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<StreamPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new StreamPeer(socket)));
      socket.once('error', reject);
    });
  }

  async waitFor(predicate: (peer: StreamPeer) => boolean, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`condition not met; received so far: ${JSON.stringify(this.text)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function request(callId: string, sentBy: string, extraHeader = ''): string {
  return [
    'OPTIONS sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/TCP ${sentBy};branch=z9hG4bK-${callId};rport`,
    'From: <sip:probe@example.com>;tag=f1',
    'To: <sip:127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    ...(extraHeader ? [extraHeader] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('Class: TransportLayer (TCP)', () => {
  let transport: TransportLayer<SipMessage>;
  let metrics: MetricsRegistry;
  let port: number;
  let inbox: Array<{ message: SipMessage; flow: Flow }>;
  const peers: StreamPeer[] = [];
  const servers: net.Server[] = [];

  async function start(overrides: Partial<TransportLayerOptions<SipMessage>> = {}): Promise<void> {
    metrics = new MetricsRegistry({ namespace: 'test', write: () => undefined });
    transport = new TransportLayer<SipMessage>({ codec: createSipTransportCodec(), limits: DEFAULT_SIP_LIMITS, metrics, ...overrides });
    const [bound] = await transport.listen(['tcp:127.0.0.1:0']);
    port = bound!.port;
    inbox = [];
    transport.onMessage((message, flow) => inbox.push({ message, flow }));
  }

  async function connect(): Promise<StreamPeer> {
    const peer = await StreamPeer.connect(port);
    peers.push(peer);
    return peer;
  }

  /** A TCP server standing for a peer that listens (a UA's sent-by, a registrar). */
  async function listeningPeer(): Promise<{ port: number; accepted: StreamPeer[] }> {
    const accepted: StreamPeer[] = [];
    const server = net.createServer((socket) => {
      const peer = new StreamPeer(socket);
      accepted.push(peer);
      peers.push(peer);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return { port: (server.address() as net.AddressInfo).port, accepted };
  }

  async function waitForInbox(count: number): Promise<void> {
    for (let i = 0; i < 200 && inbox.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    await transport?.close();
  });

  it('ERR-4: a 70 KB message over TCP is answered 513 and the connection closed', async () => {
    // Prepare
    await start();
    const peer = await connect();
    const big = request('big-1', '127.0.0.1:5060', `X-Padding: ${'a'.repeat(70 * 1024)}`);

    // Act
    peer.socket.write(big);
    await peer.waitFor((p) => p.closed);

    // Assess
    expect(peer.text).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    expect(peer.text).toContain('Call-ID: big-1');
    expect(inbox).toEqual([]);
    expect(metrics.snapshot().counters).toMatchObject({ malformed_messages: 1, oversize_messages: 1 });
  });

  it('ERR-4: a Content-Length announcing 70 KB is answered 513 before the body arrives', async () => {
    // Prepare
    await start();
    const peer = await connect();
    const head = request('big-2', '127.0.0.1:5060').replace('Content-Length: 0', `Content-Length: ${70 * 1024}`);

    // Act
    peer.socket.write(head);
    await peer.waitFor((p) => p.closed);

    // Assess
    expect(peer.text).toMatch(/^SIP\/2\.0 513 /);
  });

  it('ERR-3: a bad message on a connection gets 400 and the connection keeps serving', async () => {
    // Prepare
    await start();
    const peer = await connect();

    // Act
    peer.socket.write(request('bad-1', '127.0.0.1:5060', 'Max-Forwards: lots').replace('Max-Forwards: 70\r\n', ''));
    peer.socket.write(request('good-1', '127.0.0.1:5060'));
    await waitForInbox(1);
    await peer.waitFor((p) => p.text.includes('400 Bad Request'));

    // Assess
    expect(inbox.map((entry) => entry.message.callId())).toEqual(['good-1']);
    expect(peer.closed).toBe(false);
    expect(metrics.snapshot().counters.malformed_messages).toBe(1);
  });

  it('PTH-4: a CRLFCRLF keep-alive ping is answered with a CRLF pong', async () => {
    // Prepare
    await start();
    const peer = await connect();

    // Act
    peer.socket.write('\r\n\r\n');
    await peer.waitFor((p) => p.text.length > 0);

    // Assess
    expect(peer.text).toBe('\r\n');
    expect(metrics.snapshot().counters.keepalives_answered).toBe(1);
  });

  it('PTH-3: a request sent on a flow leaves through the same TCP connection', async () => {
    // Prepare
    await start();
    const peer = await connect();
    peer.socket.write(request('reg-1', '127.0.0.1:5999'));
    await waitForInbox(1);
    const deviceFlow = inbox[0]!.flow;

    // Act
    const used = await transport.send(Buffer.from(request('to-device-1', '127.0.0.1:1')), deviceFlow);
    await peer.waitFor((p) => p.text.includes('to-device-1'));

    // Assess
    expect(used.connectionId).toBe(deviceFlow.connectionId);
    expect(metrics.snapshot().counters.connections_opened).toBe(1);
  });

  it('PTH-3: when the flow\'s connection is gone, a new connection to the remote address is opened', async () => {
    // Prepare
    await start();
    const device = await listeningPeer();
    const staleFlow: Flow = { transport: 'tcp', localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: device.port, connectionId: 't0-999' };

    // Act
    const used = await transport.send(Buffer.from(request('to-device-2', '127.0.0.1:1')), staleFlow);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Assess
    expect(used.connectionId).not.toBe('t0-999');
    expect(device.accepted).toHaveLength(1);
    await device.accepted[0]!.waitFor((p) => p.text.includes('to-device-2'));
  });

  it('RFC 3261 §18.2.2: a response whose request connection closed goes to received and the sent-by port', async () => {
    // Prepare
    await start();
    const device = await listeningPeer();
    const peer = await connect();
    peer.socket.write(request('gone-1', `127.0.0.1:${device.port}`));
    await waitForInbox(1);
    const { message, flow } = inbox[0]!;
    peer.socket.destroy();
    for (let i = 0; i < 100 && transport.isConnectionOpen(flow.connectionId!); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));

    // Act
    await transport.sendResponse(createResponse(message, 200, 'OK', { toTag: 'x' }), flow);

    // Assess
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(device.accepted).toHaveLength(1);
    await device.accepted[0]!.waitFor((p) => p.text.startsWith('SIP/2.0 200 OK'));
  });

  it('rejects a send when no connection can be made, counting the failure', async () => {
    // Prepare
    await start({ connectTimeoutMs: 500 });
    const closed = await listeningPeer();
    await new Promise((resolve) => servers.pop()!.close(resolve));

    // Act
    const sending = transport.send(Buffer.from('x'), { transport: 'tcp', address: '127.0.0.1', port: closed.port });

    // Assess
    await expect(sending).rejects.toThrow(expect.objectContaining({ name: 'TransportSendError' }));
    expect(metrics.snapshot().counters.send_errors).toBe(1);
  });

  it('limits floods per connection without starving other connections from the same address', async () => {
    // Prepare
    await start({ floodPerConnection: { ratePerSec: 0.001, burst: 2 } });
    const flooder = await connect();
    const other = await connect();

    // Act
    for (let i = 0; i < 4; i += 1) flooder.socket.write(request(`flood-${i}`, '127.0.0.1:5060'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    other.socket.write(request('other-1', '127.0.0.1:5060'));
    await waitForInbox(3);

    // Assess
    expect(inbox.map((entry) => entry.message.callId())).toEqual(['flood-0', 'flood-1', 'other-1']);
    expect(metrics.snapshot().counters.flood_limited_messages).toBe(2);
  });

  describe('idle connections', () => {
    it('PTH-4: closes an idle unpinned connection but keeps a pinned one open', async () => {
      // Prepare
      let nowMs = 0;
      await start({ idleTimeoutMs: 400, unpinGraceMs: 10_000, nowMs: () => nowMs });
      const idle = await connect();
      const bound = await connect();
      bound.socket.write(request('pin-1', '127.0.0.1:5060'));
      await waitForInbox(1);
      expect(transport.pinConnection(inbox[0]!.flow.connectionId!)).toBe(true);

      // Act
      nowMs = 3_600_000;
      await idle.waitFor((p) => p.closed);
      await new Promise((resolve) => setTimeout(resolve, 250));

      // Assess
      expect(idle.closed).toBe(true);
      expect(bound.closed).toBe(false);
      expect(transport.connectionCount).toBe(1);
    });

    it('PTH-4: an unpinned connection closes only after the grace period', async () => {
      // Prepare
      let nowMs = 0;
      await start({ idleTimeoutMs: 400, unpinGraceMs: 10_000, nowMs: () => nowMs });
      const peer = await connect();
      peer.socket.write(request('pin-2', '127.0.0.1:5060'));
      await waitForInbox(1);
      const connectionId = inbox[0]!.flow.connectionId!;
      transport.pinConnection(connectionId);
      nowMs = 1_000_000;
      transport.unpinConnection(connectionId);

      // Act
      nowMs = 1_009_000;
      await new Promise((resolve) => setTimeout(resolve, 250));
      const openInGrace = !peer.closed;
      nowMs = 1_010_000;
      await peer.waitFor((p) => p.closed);

      // Assess
      expect(openInGrace).toBe(true);
      expect(peer.closed).toBe(true);
    });
  });
});
