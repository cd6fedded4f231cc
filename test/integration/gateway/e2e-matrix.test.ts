/**
 * Issue 4 §5 end to end with real peers: SIPp devices and callers, the mid-registrar in-process, and
 * Kamailio as the main registrar with digest auth, for modes 0, 1, 2 and both insertion modes.
 * Fills the gaps of the other gateway suites: path insertion, the absorb window edge, queries,
 * `Contact: *`, the device's 200 OK shape, MESSAGE and INVITE through Kamailio in each mode, and
 * mode 2 parallel ringing with the answer cancelling the other branch.
 */
import { join } from 'node:path';
import type { AorRecord } from '../../../functions/core/model';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp, startSipp, type SippResult } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');
const DOMAIN = 'example.com';
const PASSWORD = 'secret';

/** One cell of the matrix: a mode and an insertion (path insertion is modes 0 and 1 only, CFG-2). */
interface MatrixCase {
  label: string;
  /** Prefix of the AoR user names of this case, so all cases share one Kamailio. */
  key: string;
  mode: 0 | 1 | 2;
  insertion: 'contact' | 'path';
}

const CASES: MatrixCase[] = [
  { label: 'mode 0, contact insertion', key: 'm0c', mode: 0, insertion: 'contact' },
  { label: 'mode 0, path insertion', key: 'm0p', mode: 0, insertion: 'path' },
  { label: 'mode 1, contact insertion', key: 'm1c', mode: 1, insertion: 'contact' },
  { label: 'mode 1, path insertion', key: 'm1p', mode: 1, insertion: 'path' },
  { label: 'mode 2, contact insertion', key: 'm2c', mode: 2, insertion: 'contact' },
];

/** The users every case registers: one for the REGISTER sequence, one for `Contact: *`, one for calls. */
function usersOf(matrixCase: MatrixCase): { reg: string; star: string; call: string; retrans: string; pair: string } {
  return { reg: `${matrixCase.key}-reg`, star: `${matrixCase.key}-star`, call: `${matrixCase.key}-call`, retrans: `${matrixCase.key}-rtx`, pair: `${matrixCase.key}-pair` };
}

/** The SIP messages of a SIPp trace that start with `startLine` (e.g. `SIP/2.0 200`), in order. */
function tracedMessages(trace: string, startLine: string): string[] {
  // Each traced message is a dashed separator line, a "UDP message sent/received" line, then the message.
  return trace
    .split(/^-{10,}.*$/m)
    .map((block) => block.trim().replace(/^.*message (sent|received).*\n/, '').trim())
    .filter((block) => block.startsWith(startLine));
}

/** Values of header `name` in `message` (one per header line). */
function headerLines(message: string, name: string): string[] {
  return message
    .split(/\r?\n/)
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((line) => line.slice(name.length + 1).trim());
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let kamailio: KamailioInstance;

beforeAll(async () => {
  const users: Record<string, string> = {};
  for (const matrixCase of CASES) for (const user of Object.values(usersOf(matrixCase))) users[user] = PASSWORD;
  kamailio = await startKamailio({ users });
}, 20000);

afterAll(async () => {
  await kamailio?.stop();
  await stopAllProcesses();
});

/** Starts the mid-registrar of `matrixCase` towards the file's Kamailio on a fresh UDP port. */
async function startMid(matrixCase: MatrixCase, registerDelayMs?: number): Promise<{ mid: LocalGateway; midPort: number }> {
  const midPort = await allocatePort();
  const mid = await startLocalGateway({
    config: {
      mode: matrixCase.mode,
      insertion: matrixCase.insertion,
      upstreamUri: `sip:${DOMAIN}`,
      upstreamOutboundProxy: kamailio.address,
      // Devices and callers share 127.0.0.1 with Kamailio: trust Kamailio's socket only.
      trustedUpstreamSources: [kamailio.address],
      listen: [`udp:127.0.0.1:${midPort}`],
      // Short values so the window edge comes within seconds: absorbable while
      // now + (e + m) < U, i.e. for e = 5 s during the first 20 − 5 − 10 = 5 s after a relay (M1-3, M2-3).
      outgoingExpires: 20,
      refreshMargin: 10,
      minExpires: 1,
    },
    registerDelayMs,
  });
  return { mid, midPort };
}

/** Registers a device through the mid-registrar with one 401 round trip. */
async function registerDevice(midPort: number, user: string, devicePort: number, expiresSec: number): Promise<SippResult> {
  const result = await runSipp({
    scenario: join(SCENARIOS, 'e2e-register-auth-uac.xml'),
    remote: `127.0.0.1:${midPort}`,
    local: { host: '127.0.0.1', port: devicePort },
    transport: 'u1',
    service: user,
    auth: { username: user, password: PASSWORD },
    keys: { domain: DOMAIN, expires: String(expiresSec) },
    timeoutMs: 10000,
  });
  if (result.exitCode !== 0) throw new Error(`registration of ${user} failed: ${result.errors}\n${result.output}`);
  return result;
}

/** Runs a device-side scenario (UAS) on `devicePort`; resolves once SIPp is listening, with its outcome to await. */
async function startDevice(midPort: number, devicePort: number, scenario: string): Promise<{ done: Promise<SippResult> }> {
  const run = startSipp({ scenario: join(SCENARIOS, scenario), remote: `127.0.0.1:${midPort}`, local: { host: '127.0.0.1', port: devicePort }, transport: 'u1', timeoutMs: 12000 });
  await run.ready;
  return { done: run.done };
}

/** Runs a caller scenario against Kamailio for `user@example.com`. */
async function callThroughKamailio(scenario: string, user: string, keys: Record<string, string> = {}): Promise<SippResult> {
  return runSipp({
    scenario: join(SCENARIOS, scenario),
    remote: kamailio.address,
    local: { host: '127.0.0.1', port: await allocatePort() },
    transport: 'u1',
    service: user,
    keys: { domain: DOMAIN, ...keys },
    timeoutMs: 10000,
  });
}

/** The upstream contact Kamailio should hold for a device of `user` (FWD-3, FWD-5, FWD-6). */
function upstreamContactPattern(matrixCase: MatrixCase, user: string, midPort: number, devicePort: number): RegExp {
  if (matrixCase.insertion === 'path') return new RegExp(`^sip:${escapeRegExp(user)}@127\\.0\\.0\\.1:${devicePort};transport=UDP$`);
  if (matrixCase.mode === 2) return new RegExp(`^sip:${escapeRegExp(user)}%40example\\.com@127\\.0\\.0\\.1:${midPort};ctid=\\d+$`);
  return new RegExp(`^sip:${escapeRegExp(user)}@127\\.0\\.0\\.1:${midPort};ctid=\\d+$`);
}

describe.each(CASES)('E2E $label: SIPp devices → mid-registrar → Kamailio (digest auth)', (matrixCase) => {
  const users = usersOf(matrixCase);
  let mid: LocalGateway;
  let midPort: number;

  beforeAll(async () => {
    ({ mid, midPort } = await startMid(matrixCase));
  }, 20000);

  afterAll(async () => {
    await mid?.close();
  });

  const relaysOrAbsorbs = matrixCase.mode === 0 ? 'every refresh is relayed (M0-1)' : 'refreshes inside the window are absorbed, the one past the edge is relayed (M1-3/M2-3)';
  it(`RPL-1, FWD-8, ${matrixCase.mode === 0 ? 'M0-1' : 'M1-3, M2-3'}, RPL-7, REG-10, PTH-5, PTH-6, REG-7: 401 passes through; ${relaysOrAbsorbs}; the device's 200s follow SPEC; queries`, async () => {
    // Prepare
    const devicePort = await allocatePort();
    const relaysBefore = mid.decisions.registerReply;

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'e2e-register-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: users.reg,
      auth: { username: users.reg, password: PASSWORD },
      keys: { domain: DOMAIN, expires: '5' },
      timeoutMs: 20000,
    });
    // The binding is valid for 5 s after the last refresh: query at once with another Call-ID.
    const query = await runSipp({
      scenario: join(SCENARIOS, 'e2e-query-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: await allocatePort() },
      transport: 'u1',
      service: users.reg,
      auth: { username: users.reg, password: PASSWORD },
      keys: { domain: DOMAIN },
      timeoutMs: 8000,
    });
    const upstream = await kamailio.dumpBindings(`${users.reg}@${DOMAIN}`);

    // Assess
    expect([result.errors, query.errors]).toEqual(['', '']);
    expect([result.exitCode, query.exitCode]).toEqual([0, 0]);
    // RPL-1: upstream's challenges reach the device; REG-7: the own-Call-ID query is not challenged
    // (answered locally), the foreign one is (relayed so that upstream authenticates it).
    expect(tracedMessages(result.messages, 'SIP/2.0 401')).toHaveLength(1);
    expect(tracedMessages(query.messages, 'SIP/2.0 401')).toHaveLength(1);
    const oks = [...tracedMessages(result.messages, 'SIP/2.0 200'), ...tracedMessages(query.messages, 'SIP/2.0 200')];
    expect(oks).toHaveLength(6);
    const deviceContact = new RegExp(`^<sip:${escapeRegExp(users.reg)}@127\\.0\\.0\\.1:${devicePort};transport=UDP>;expires=[1-5]$`, 'i');
    for (const ok of oks.slice(0, 4)) {
      // RPL-7 / REG-10: one Contact listing the device's own URI with its expiry, no Expires header.
      expect(headerLines(ok, 'Contact')).toEqual([expect.stringMatching(deviceContact)]);
      expect(headerLines(ok, 'Expires')).toEqual([]);
      // PTH-5 (lazy, Supported: path): the device's Path comes back; PTH-6: ours never does.
      expect(headerLines(ok, 'Path')).toEqual([`<sip:127.0.0.1:${devicePort};lr>`]);
    }
    // REG-7: the own-Call-ID query is answered locally, the foreign one after upstream authenticated it;
    // both list the device's binding, never the contact upstream holds (RPL-3, RPL-7).
    for (const ok of oks.slice(4)) {
      expect(headerLines(ok, 'Contact')).toEqual([expect.stringMatching(deviceContact)]);
      expect(headerLines(ok, 'Expires')).toEqual([]);
      expect(ok).not.toContain(`:${midPort}`);
    }
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.contact).toMatch(upstreamContactPattern(matrixCase, users.reg, midPort, devicePort));
    if (matrixCase.insertion === 'path') {
      // FWD-5: upstream stores our Path with a token, not the device's own Path (FWD-7).
      expect(upstream[0]!.path).toMatch(new RegExp(`^<sip:[A-Za-z0-9_.~%-]+@127\\.0\\.0\\.1:${midPort};lr>$`));
    } else {
      expect(upstream[0]!.path).toBeUndefined();
    }
    // The last refresh (CSeq 5) reached upstream in every mode: past the window edge in modes 1 and 2.
    expect(upstream[0]!.cseq).toBe(5);
    const relays = mid.decisions.registerReply - relaysBefore;
    if (matrixCase.mode === 0) {
      // M0-1, FWD-8: all five REGISTERs and both foreign queries relayed, with E = e.
      expect(upstream[0]!.expiresSec).toBeLessThanOrEqual(5);
      expect(relays).toBe(7);
    } else {
      // FWD-8: relayed with outgoingExpires; CSeq 3 and 4 absorbed (M1-3/M2-3), so five relays.
      expect(upstream[0]!.expiresSec).toBeGreaterThan(10);
      expect(upstream[0]!.expiresSec).toBeLessThanOrEqual(20);
      expect(relays).toBe(5);
    }
  }, 30000);

  it('PTH-5, PTH-6, REG-8, FWD-7, RPL-8: Path without Supported: path is not echoed; Contact: * is relayed, upstream and local bindings are gone, no De-REGISTER is planned', async () => {
    // Prepare
    const devicePort = await allocatePort();
    const aor = `${users.star}@${DOMAIN}`;

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'e2e-star-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: users.star,
      auth: { username: users.star, password: PASSWORD },
      keys: { domain: DOMAIN, expires: '60' },
      timeoutMs: 10000,
    });

    // Assess
    expect(result.errors).toBe('');
    expect(result.exitCode).toBe(0);
    expect(await kamailio.dumpBindings(aor)).toEqual([]);
    // RPL-8: with no binding left, the own-Call-ID query is relayed (second 401) and lists nothing.
    expect(tracedMessages(result.messages, 'SIP/2.0 401')).toHaveLength(2);
    const oks = tracedMessages(result.messages, 'SIP/2.0 200');
    expect(oks).toHaveLength(3);
    // PTH-5 (lazy): the device's Path is stored but not returned without Supported: path; PTH-6: nor ours.
    expect(headerLines(oks[0]!, 'Contact')).toHaveLength(1);
    expect(headerLines(oks[0]!, 'Path')).toEqual([]);
    expect(headerLines(oks[1]!, 'Contact')).toEqual([]);
    expect(headerLines(oks[2]!, 'Contact')).toEqual([]);
    const stored = await mid.store.get(aor);
    const record: AorRecord | undefined = stored?.record;
    expect(record?.deregisterWork ?? []).toEqual([]);
  }, 20000);

  if (matrixCase.mode !== 2) {
    it(`${matrixCase.mode === 0 ? 'M0-1' : 'M1-1'}, REG-10, RPL-7: two devices of one AoR: upstream holds a contact for each; the second 200 lists both, oldest first`, async () => {
      // Prepare
      const [portA, portB] = [await allocatePort(), await allocatePort()];
      await registerDevice(midPort, users.pair, portA, 15);

      // Act
      const second = await registerDevice(midPort, users.pair, portB, 15);
      const upstream = await kamailio.dumpBindings(`${users.pair}@${DOMAIN}`);

      // Assess
      const ok = tracedMessages(second.messages, 'SIP/2.0 200')[0] ?? '';
      const contacts = headerLines(ok, 'Contact');
      expect(contacts).toHaveLength(1);
      const listed = contacts[0]!.split(/,\s*/);
      expect(listed).toEqual([
        expect.stringMatching(new RegExp(`^<sip:${escapeRegExp(users.pair)}@127\\.0\\.0\\.1:${portA};transport=UDP>;expires=\\d+$`, 'i')),
        expect.stringMatching(new RegExp(`^<sip:${escapeRegExp(users.pair)}@127\\.0\\.0\\.1:${portB};transport=UDP>;expires=\\d+$`, 'i')),
      ]);
      expect(headerLines(ok, 'Expires')).toEqual([]);
      expect(headerLines(ok, 'Path')).toEqual([]);
      expect(upstream.map((binding) => binding.contact)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(upstreamContactPattern(matrixCase, users.pair, midPort, portA)),
          expect.stringMatching(upstreamContactPattern(matrixCase, users.pair, midPort, portB)),
        ]),
      );
      expect(upstream).toHaveLength(2);
    }, 30000);

    it('LKP-2, LKP-4, LKP-8, LKP-9: a MESSAGE and an INVITE sent by a caller through Kamailio reach the device', async () => {
      // Prepare
      const devicePort = await allocatePort();
      await registerDevice(midPort, users.call, devicePort, 15);
      const lookupsBefore = mid.decisions.lookup;

      // Act
      const messageDevice = await startDevice(midPort, devicePort, 'message-uas.xml');
      const messageCaller = await callThroughKamailio('message-uac.xml', users.call, { ruri: `sip:${users.call}@${DOMAIN}` });
      const messageCallee = await messageDevice.done;
      const inviteDevice = await startDevice(midPort, devicePort, 'invite-uas.xml');
      const inviteCaller = await callThroughKamailio('invite-uac.xml', users.call);
      const inviteCallee = await inviteDevice.done;

      // Assess
      expect([messageCaller.errors, inviteCaller.errors]).toEqual(['', '']);
      expect([messageCaller.exitCode, messageCallee.exitCode, inviteCaller.exitCode, inviteCallee.exitCode]).toEqual([0, 0, 0, 0]);
      const deviceUri = `sip:${escapeRegExp(users.call)}@127\\.0\\.0\\.1:${devicePort};transport=UDP`;
      // LKP-4: the device's own contact is the Request-URI; LKP-9: our Record-Route on top.
      expect(messageCallee.messages).toMatch(new RegExp(`^MESSAGE ${deviceUri} SIP/2\\.0`, 'm'));
      expect(inviteCallee.messages).toMatch(new RegExp(`^INVITE ${deviceUri} SIP/2\\.0`, 'm'));
      expect(inviteCallee.messages).toMatch(new RegExp(`^Record-Route: <sip:[A-Za-z0-9_.~%-]+@127\\.0\\.0\\.1:${midPort};lr>`, 'm'));
      // LKP-2 (path insertion): our Path token Route was consumed, so the device sees no Route to us.
      expect(inviteCallee.messages).not.toMatch(new RegExp(`^Route:.*127\\.0\\.0\\.1:${midPort}`, 'm'));
      expect(inviteCallee.messages).toMatch(/^BYE /m);
      expect(mid.decisions.lookup - lookupsBefore).toBe(2);
    }, 40000);
  } else {
    it('LKP-5, LKP-6, LKP-8: a MESSAGE reaches both devices; an INVITE rings both in parallel and the answer on one CANCELs the other', async () => {
      // Prepare
      const [portA, portB] = [await allocatePort(), await allocatePort()];
      await registerDevice(midPort, users.call, portA, 15);
      await registerDevice(midPort, users.call, portB, 15);

      // Act
      const messageDevices = [await startDevice(midPort, portA, 'message-uas.xml'), await startDevice(midPort, portB, 'message-uas.xml')];
      const messageCaller = await callThroughKamailio('message-uac.xml', users.call, { ruri: `sip:${users.call}@${DOMAIN}` });
      const messageCallees = await Promise.all(messageDevices.map((device) => device.done));
      const answering = await startDevice(midPort, portA, 'invite-uas.xml');
      const ringing = await startDevice(midPort, portB, 'invite-ringing-cancelled-uas.xml');
      const inviteCaller = await callThroughKamailio('invite-uac.xml', users.call);
      const [a, b] = await Promise.all([answering.done, ringing.done]);

      // Assess
      expect([messageCaller.errors, inviteCaller.errors]).toEqual(['', '']);
      expect([messageCaller.exitCode, ...messageCallees.map((callee) => callee.exitCode)]).toEqual([0, 0, 0]);
      expect(messageCallees[1]!.messages).toMatch(new RegExp(`^MESSAGE sip:${escapeRegExp(users.call)}@127\\.0\\.0\\.1:${portB};transport=UDP SIP/2\\.0`, 'm'));
      expect([inviteCaller.exitCode, a.exitCode, b.exitCode]).toEqual([0, 0, 0]);
      // LKP-6: B rang, got CANCEL after A answered; the caller saw A's 200 and no 487 from B.
      expect(b.messages).toMatch(/^CANCEL sip:/m);
      expect(inviteCaller.messages).not.toMatch(/^SIP\/2\.0 487/m);
    }, 40000);
  }
});

// Mode 1 with contact insertion is covered by register-mode1.test.ts.
const RETRANSMISSION_CASES = CASES.filter((matrixCase) => matrixCase.key !== 'm1c');

describe.each(RETRANSMISSION_CASES)('E2E $label: UDP retransmissions while the decision is pending', (matrixCase) => {
  let mid: LocalGateway;
  let midPort: number;

  beforeAll(async () => {
    // SIPp retransmits at 0.5 s and 1.5 s: the decision stays pending past both.
    ({ mid, midPort } = await startMid(matrixCase, 2500));
  }, 20000);

  afterAll(async () => {
    await mid?.close();
  });

  it('GEN-6: a REGISTER retransmitted while its decision is pending is decided and relayed once', async () => {
    // Prepare
    const user = usersOf(matrixCase).retrans;

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'register-delayed-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: await allocatePort() },
      transport: 'u1',
      service: user,
      keys: { domain: DOMAIN, expires: '60' },
      timeoutMs: 10000,
    });

    // Assess
    expect(result.exitCode).toBe(0);
    expect(tracedMessages(result.messages, `REGISTER sip:${DOMAIN}`).length).toBeGreaterThanOrEqual(3);
    expect(mid.decisions.register).toBe(1);
    expect(mid.decisions.registerReply).toBe(1);
    expect(tracedMessages(result.messages, 'SIP/2.0 401')).toHaveLength(1);
  }, 20000);
});
