/**
 * SPEC PTH-4 (issue 4 §3): the TCP connection a valid binding uses is kept open however idle; it closes
 * (after the unpin grace) once the binding ends. Short idle and grace times keep the test brief.
 */
import { connect, type Socket } from 'node:net';
import { allocatePort } from '../../support/ports';
import { startMinimalResponder, type MinimalResponder } from '../../support/minimal-responder';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const IDLE_MS = 300;
const GRACE_MS = 500;

/** A device's TCP connection that collects responses and notices when the gateway closes it. */
class TcpDevice {
  private buffer = '';
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.buffer += chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<TcpDevice> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new TcpDevice(socket);
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Sends a request and resolves with the status of the first final response after it. */
  async request(text: string): Promise<number> {
    this.buffer = '';
    this.socket.write(text);
    const deadline = Date.now() + 5000;
    for (;;) {
      const status = /^SIP\/2\.0 ([2-6]\d\d) /m.exec(this.buffer)?.[1];
      if (status !== undefined) return Number(status);
      if (Date.now() > deadline) throw new Error(`no final response; got ${this.buffer}`);
      await sleep(20);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function register(device: TcpDevice, cseq: number, expiresSec: number): string {
  return [
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:${device.localPort};branch=z9hG4bK-pin-${cseq}-${Date.now()};rport`,
    'From: <sip:bob@example.com>;tag=pin1',
    'To: <sip:bob@example.com>',
    `Call-ID: pin-${device.localPort}@test`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:bob@127.0.0.1:${device.localPort};transport=tcp>`,
    `Expires: ${expiresSec}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('Gateway over TCP with a relaying upstream: PTH-4 pins, upstream reply counts', () => {
  let upstream: MinimalResponder;
  let mid: LocalGateway;
  let tcpPort: number;

  beforeAll(async () => {
    upstream = await startMinimalResponder();
    tcpPort = await allocatePort();
    mid = await startLocalGateway({
      config: {
        mode: 1,
        upstreamUri: 'sip:example.com',
        upstreamOutboundProxy: `127.0.0.1:${upstream.udpPort}`,
        listen: [`udp:127.0.0.1:${tcpPort}`, `tcp:127.0.0.1:${tcpPort}`],
      },
      tcp: { tcpIdleTimeoutMs: IDLE_MS, tcpUnpinGraceMs: GRACE_MS },
    });
  });

  afterAll(async () => {
    await mid?.close();
    await upstream?.close();
  });

  it('PTH-4: without a binding an idle connection is closed (the control case)', async () => {
    // Prepare
    const device = await TcpDevice.open(tcpPort);

    // Act
    await sleep(IDLE_MS * 5);

    // Assess
    expect(device.closed).toBe(true);
  });

  it('PTH-4: a registered device\'s connection stays open while idle, and closes after its De-REGISTER plus the grace', async () => {
    // Prepare
    const device = await TcpDevice.open(tcpPort);
    try {
      // Act
      const registered = await device.request(register(device, 1, 60));
      await sleep(IDLE_MS * 5);
      const openWhileBound = !device.closed;
      const deregistered = await device.request(register(device, 2, 0));
      await sleep(GRACE_MS + IDLE_MS * 5);

      // Assess
      expect(registered).toBe(200);
      expect(openWhileBound).toBe(true);
      expect(deregistered).toBe(200);
      expect(device.closed).toBe(true);
    } finally {
      device.close();
    }
  });

  it('counts the main registrar\'s final replies to relayed REGISTERs as upstream_replies, per status class (dashboard)', async () => {
    // Prepare
    const before = mid.metrics.snapshot().counters;
    const device = await TcpDevice.open(tcpPort);
    try {
      // Act: a new binding is relayed upstream in mode 1 (M1), and so is its removal.
      await device.request(register(device, 1, 60));
      await device.request(register(device, 2, 0));
      const after = mid.metrics.snapshot().counters;

      // Assess
      expect((after.upstream_replies ?? 0) - (before.upstream_replies ?? 0)).toBe(2);
      expect((after.upstream_replies_2xx ?? 0) - (before.upstream_replies_2xx ?? 0)).toBe(2);
    } finally {
      device.close();
    }
  });
});
