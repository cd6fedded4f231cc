/**
 * Issue 4 §3, DESIGN §5: two gateway processes (`dist/main.js`, local mode) on two loopback addresses share
 * one store (DynamoDB API on dynalite). The device registers through A; Kamailio sends the call to B (the
 * advertised fleet address, as an NLB would); B hands it to A over the internal hop and the device gets it
 * from A's socket. After the device's next REGISTER arrives through B, B owns its flow.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createFlowToken } from '../../../functions/core/token';
import { createHopToken, deriveHopKey, INTERNAL_HOP_HEADER } from '../../../sip-gateway/src/proxy/internal-hop';
import { startDynalite, type DynaliteHandle } from '../../support/dynalite';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { startProcess, stopAllProcesses, type ManagedProcess } from '../../support/process';
import { runSipp, type SippResult } from '../../support/sipp';

const ROOT = join(__dirname, '..', '..', '..');
const SCENARIOS = join(__dirname, 'scenarios');
const GATEWAY_A = '127.0.0.21';
const GATEWAY_B = '127.0.0.22';
const DEVICE = '127.0.0.31';
const TOKEN_SECRET = 'owner-hop-test-secret';

/** A request the raw device socket received, with where it came from. */
interface Received {
  text: string;
  from: RemoteInfo;
}

/** The device after registration: a plain UDP socket on its registered port that answers 200 to every request. */
class RawDevice {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (data, from) => {
      const text = data.toString('utf8');
      if (!/^SIP\/2\.0 /.test(text)) {
        this.received.push({ text, from });
        if (!text.startsWith('ACK ')) socket.send(okFor(text), from.port, from.address);
      } else {
        this.received.push({ text, from });
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async bind(port: number): Promise<RawDevice> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, DEVICE, resolve));
    return new RawDevice(socket);
  }

  /** Resolves with the first message whose start line matches, waiting up to `timeoutMs`. */
  async waitFor(startLine: RegExp, timeoutMs: number): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((message) => startLine.test(message.text));
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${startLine} within ${timeoutMs} ms; got ${this.received.map((m) => m.text.split('\r\n')[0]).join(' | ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  send(text: string, port: number, address: string): void {
    this.socket.send(text, port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Header lines of a message whose name (full or compact form) is one of `names`. */
function headerLines(text: string, names: readonly string[]): string[] {
  const head = text.split('\r\n\r\n')[0] ?? '';
  return head.split('\r\n').slice(1).filter((line) => names.includes(line.slice(0, line.indexOf(':')).trim().toLowerCase()));
}

/** 200 OK to a request (RFC 3261 §8.2.6: Via, From, To with a tag, Call-ID, CSeq; §12.1.1: Record-Route copied). */
function okFor(request: string): string {
  const to = headerLines(request, ['to', 't'])[0] ?? 'To: <sip:alice@example.com>';
  const lines = [
    'SIP/2.0 200 OK',
    ...headerLines(request, ['via', 'v']),
    ...headerLines(request, ['record-route']),
    ...headerLines(request, ['from', 'f']),
    /;\s*tag=/i.test(to) ? to : `${to};tag=device1`,
    ...headerLines(request, ['call-id', 'i']),
    ...headerLines(request, ['cseq']),
    'Contact: <sip:alice@' + DEVICE + '>',
    'Content-Length: 0',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('Gateway owner hop (issue 4 §3, DESIGN §5): two gateway processes, one store', () => {
  let workDir: string;
  let db: DynaliteHandle;
  let kamailio: KamailioInstance;
  let portA: number;
  let portB: number;
  let devicePort: number;
  let device: RawDevice;
  let registerText: string;
  const hopPorts: Record<string, number> = {};
  const healthPorts: Record<string, number> = {};

  let main: string;

  const startGateway = async (address: string, sipPort: number, label: string): Promise<ManagedProcess> => {
    const hopPort = await allocatePort(address);
    hopPorts[address] = hopPort;
    const healthPort = await allocatePort(address);
    healthPorts[address] = healthPort;
    const child = startProcess({
      command: 'node',
      args: [
        main, '--mode', '1', '--upstreamUri', 'sip:example.com', '--upstreamOutboundProxy', kamailio.address,
        '--listen', `udp:${address}:${sipPort}`,
        // Both advertise the fleet address (here B's socket), as both would advertise the NLB.
        '--advertisedUri', `sip:${GATEWAY_B}:${portB}`,
        '--internalHop', `${address}:${hopPort}`,
        '--dynamodbEndpoint', db.endpoint, '--bindingsTable', db.tableName,
        '--tokenSecret', TOKEN_SECRET, '--healthPort', String(healthPort),
        '--dataDir', join(workDir, label), '--inviteTimeout', '5',
      ],
      cwd: workDir,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
      label,
    });
    await child.waitForOutput(/mid-registrar mode=1/, 15000);
    return child;
  };

  beforeAll(async () => {
    // Prepare: the bundle `npm start` runs (as scripts/build.mjs makes it, in a private directory so a
    // concurrent build of dist/ cannot swap it mid-start), one dynalite, Kamailio upstream, two gateways.
    workDir = mkdtempSync(join(tmpdir(), 'owner-hop-'));
    await build({ entryPoints: { main: join(ROOT, 'sip-gateway', 'src', 'main.ts') }, outdir: workDir, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
    main = join(workDir, 'main.js');
    db = await startDynalite();
    kamailio = await startKamailio({ users: { alice: 'secret' } });
    portA = await allocatePort(GATEWAY_A);
    portB = await allocatePort(GATEWAY_B);
    gatewayA = await startGateway(GATEWAY_A, portA, 'gateway-a');
    await startGateway(GATEWAY_B, portB, 'gateway-b');
    devicePort = await allocatePort(DEVICE);
    // The device registers through A (its flow is A's).
    const registered = await runSipp({
      scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
      remote: `${GATEWAY_A}:${portA}`,
      local: { host: DEVICE, port: devicePort },
      transport: 'u1',
      service: 'alice',
      auth: { username: 'alice', password: 'secret' },
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 10000,
    });
    if (registered.exitCode !== 0) throw new Error(`registration failed: ${registered.errors}\n${gatewayA.stderr}`);
    const registers = registered.messages.split(/\r?\n(?=REGISTER )/).filter((m) => m.startsWith('REGISTER '));
    registerText = registers[registers.length - 1] ?? '';
    device = await RawDevice.bind(devicePort);
  }, 60000);

  afterAll(async () => {
    await device?.close();
    await stopAllProcesses();
    await kamailio?.stop();
    await db?.stop();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  const call = async (): Promise<SippResult> => {
    const callerPort = await allocatePort();
    return runSipp({
      scenario: join(SCENARIOS, 'invite-uac.xml'),
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: callerPort },
      transport: 'u1',
      service: 'alice',
      keys: { domain: 'example.com' },
      timeoutMs: 15000,
    });
  };

  it('PTH-3, LKP-4: the INVITE reaching B leaves on A\'s socket (the owner of the device flow); 200, ACK and BYE complete the call', async () => {
    // Prepare
    const upstreamContacts = await kamailio.dumpBindings('alice@example.com');

    // Act
    const caller = await call();
    const invite = await device.waitFor(/^INVITE /, 5000);
    const ack = await device.waitFor(/^ACK /, 5000);
    const bye = await device.waitFor(/^BYE /, 5000);

    // Assess
    // Kamailio sends to the advertised fleet address, which is B's socket.
    expect(upstreamContacts.map((binding) => binding.contact).join()).toContain(`@${GATEWAY_B}:${portB}`);
    expect(caller.errors).toBe('');
    expect(caller.exitCode).toBe(0);
    expect(invite.from).toMatchObject({ address: GATEWAY_A, port: portA });
    // No hop header leaves the fleet.
    expect(invite.text).not.toMatch(/X-Mid-Registrar-Hop/i);
    // LKP-9: in-dialog requests reach B through our Record-Route and are hopped to A as well.
    expect(ack.from).toMatchObject({ address: GATEWAY_A, port: portA });
    expect(bye.from).toMatchObject({ address: GATEWAY_A, port: portA });
  }, 30000);

  describe('the internal port is no open relay', () => {
    let peer: RawDevice;
    const deviceFlow = () => ({ transport: 'udp' as const, localAddress: GATEWAY_A, localPort: portA, remoteAddress: DEVICE, remotePort: devicePort });
    const message = (hopHeader: string | undefined, branch: string) =>
      [
        `MESSAGE sip:alice@${DEVICE}:${devicePort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${DEVICE}:${peerPort};branch=z9hG4bK-${branch};rport`,
        'From: <sip:mallory@example.com>;tag=m1',
        'To: <sip:alice@example.com>',
        `Call-ID: hop-${branch}@test`,
        'CSeq: 1 MESSAGE',
        'Max-Forwards: 70',
        ...(hopHeader === undefined ? [] : [`${INTERNAL_HOP_HEADER}: ${hopHeader}`]),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    let peerPort: number;

    beforeAll(async () => {
      peerPort = await allocatePort(DEVICE);
      peer = await RawDevice.bind(peerPort);
    });

    afterAll(() => peer.close());

    it.each([
      ['no hop token', 403, () => undefined, 'none'],
      ['a Record-Route flow token (valid under tokenSecret, but not a hop token)', 403, () => createFlowToken(TOKEN_SECRET, { ...deviceFlow(), gatewayId: `${GATEWAY_A}:${hopPorts[GATEWAY_A]}` }), 'rr'],
      ['a forged hop token', 403, () => createHopToken(deriveHopKey('another-secret'), { ...deviceFlow(), gatewayId: `${GATEWAY_A}:${hopPorts[GATEWAY_A]}` }), 'forged'],
      ['a valid hop token naming a flow another instance owns', 480, () => createHopToken(deriveHopKey(TOKEN_SECRET), { ...deviceFlow(), gatewayId: `${GATEWAY_B}:${hopPorts[GATEWAY_B]}` }), 'other'],
    ])('LKP-10, PTH-3: a request on A\'s internal port with %s gets %s', async (_name, status, token, branch) => {
      // Prepare
      device.received.length = 0;

      // Act
      peer.send(message(token(), branch), hopPorts[GATEWAY_A] as number, GATEWAY_A);
      const response = await peer.waitFor(new RegExp(`^SIP/2\\.0 ${status} [^]*Call-ID: hop-${branch}@test`), 3000);

      // Assess
      expect(response.from).toMatchObject({ address: GATEWAY_A, port: hopPorts[GATEWAY_A] });
      expect(response.text).toMatch(/^P-Registrar-Error: /m);
      expect(device.received).toEqual([]);
    });
  });

  /** The device's next refresh of its registration (same Call-ID, next CSeq) to `address:port`; resolves with the 200. */
  let refreshes = 0;
  const refreshThrough = async (address: string, port: number): Promise<Received> => {
    device.received.length = 0;
    refreshes += 1;
    const cseq = Number(/^CSeq:\s*(\d+)/im.exec(registerText)?.[1] ?? '0') + refreshes;
    const refresh = registerText
      .replace(/^CSeq:.*$/im, `CSeq: ${cseq} REGISTER`)
      .replace(/branch=[^;\s]+/i, `branch=z9hG4bK-move-${refreshes}-${Date.now()}`)
      .replace(/\r?\n/g, '\r\n');
    device.send(`${refresh.trimEnd()}\r\n\r\n`, port, address);
    return device.waitFor(/^SIP\/2\.0 200 /, 5000);
  };

  it('DESIGN §5, PTH-2: after the device\'s next REGISTER arrives through B, B owns its flow and sends the call itself', async () => {
    // Prepare: the next refresh of the same registration, now to B.
    const ok = await refreshThrough(GATEWAY_B, portB);

    // Act
    const caller = await call();
    const invite = await device.waitFor(/^INVITE /, 5000);

    // Assess
    expect(ok.from).toMatchObject({ address: GATEWAY_B, port: portB });
    expect(caller.exitCode).toBe(0);
    expect(invite.from).toMatchObject({ address: GATEWAY_B, port: portB });
  }, 30000);

  it('health names each instance\'s owner id and reports its counters and store operations', async () => {
    // Act
    const response = await fetch(`http://${GATEWAY_B}:${healthPorts[GATEWAY_B]}/health`);
    const body = (await response.json()) as { gatewayId: string; counters: Record<string, number>; store: Record<string, number> };

    // Assess
    expect(body.gatewayId).toBe(`${GATEWAY_B}:${hopPorts[GATEWAY_B]}`);
    expect(body.counters.register_decisions).toBeGreaterThanOrEqual(1);
    expect(body.store.reads).toBeGreaterThan(0);
  });

  let gatewayA: ManagedProcess;

  it('PTH-3: when the owner instance is gone, the request for its device ends with 480 at once', async () => {
    // Prepare: the device moves back to A, then A stops.
    await refreshThrough(GATEWAY_A, portA);
    await gatewayA.stop();
    const contact = (await kamailio.dumpBindings('alice@example.com'))[0]?.contact ?? '';
    const callerPort = await allocatePort();
    const caller = createSocket('udp4');
    await new Promise<void>((resolve) => caller.bind(callerPort, '127.0.0.1', resolve));
    const final = new Promise<string>((resolve) => caller.on('message', (data) => /^SIP\/2\.0 [2-6]/.test(data.toString()) && resolve(data.toString())));
    device.received.length = 0;

    // Act: the main registrar (a trusted source) calls the contact it holds, which is B's address.
    const sentAtMs = Date.now();
    caller.send(
      [
        `INVITE ${contact.replace(/^<|>.*$/g, '')} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${callerPort};branch=z9hG4bK-gone-1;rport`,
        'From: <sip:caller@example.com>;tag=c1',
        'To: <sip:alice@example.com>',
        'Call-ID: owner-gone@test',
        'CSeq: 1 INVITE',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      portB,
      GATEWAY_B,
    );
    const response = await final;
    const elapsedMs = Date.now() - sentAtMs;
    caller.close();

    // Assess
    expect(response).toMatch(/^SIP\/2\.0 480 /);
    expect(response).toMatch(/^P-Registrar-Error: Flow unavailable/m);
    expect(elapsedMs).toBeLessThan(5000);
    expect(device.received).toEqual([]);
  }, 30000);
});
