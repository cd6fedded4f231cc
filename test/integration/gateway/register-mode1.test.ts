import { join } from 'node:path';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');

/** The SIP messages of a SIPp trace that start with `startLine` (e.g. `SIP/2.0 200`), in order. */
function tracedMessages(trace: string, startLine: string): string[] {
  // Each traced message is a dashed separator line, a "UDP message sent/received" line, then the message.
  return trace
    .split(/^-{10,}.*$/m)
    .map((block) => block.trim().replace(/^.*message (sent|received).*\n/, '').trim())
    .filter((block) => block.startsWith(startLine));
}

describe('Gateway mode 1: SIPp device → mid-registrar → Kamailio with digest auth', () => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret', bob: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: {
        mode: 1,
        upstreamUri: 'sip:example.com',
        upstreamOutboundProxy: kamailio.address,
        listen: [`udp:127.0.0.1:${midPort}`, `tcp:127.0.0.1:${midPort}`],
        outgoingExpires: 3600,
      },
    });
  }, 20000);

  afterAll(async () => {
    await mid?.close();
    await kamailio?.stop();
    await stopAllProcesses();
  });

  it('RPL-1, FWD-8, RPL-7, M1-3: 401 passes through, the authenticated REGISTER is relayed with outgoingExpires, the device sees its own expiry, a refresh is absorbed', async () => {
    // Prepare
    const devicePort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'alice',
      auth: { username: 'alice', password: 'secret' },
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 10000,
    });

    // Assess
    expect(result.errors).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.messages).toMatch(/SIP\/2\.0 401 Unauthorized/);
    const oks = tracedMessages(result.messages, 'SIP/2.0 200');
    expect(oks).toHaveLength(2);
    for (const ok of oks) {
      // RPL-7 / REG-10: one Contact with the device's own URI and its expiry, no Expires header.
      expect(ok).toMatch(new RegExp(`Contact: <sip:alice@127\\.0\\.0\\.1:${devicePort};transport=UDP>;expires=(59|60)`, 'i'));
      expect(ok).not.toMatch(/^Expires:/im);
    }
    const upstream = await kamailio.dumpBindings('alice@example.com');
    expect(upstream).toHaveLength(1);
    // FWD-3: upstream holds our rewritten contact, FWD-8: for outgoingExpires.
    expect(upstream[0]!.contact).toMatch(new RegExp(`^sip:alice@127\\.0\\.0\\.1:${midPort};ctid=\\d+$`));
    expect(upstream[0]!.expiresSec).toBeGreaterThan(3500);
    // M1-3: the refresh (CSeq 3) was absorbed: upstream still holds CSeq 2.
    expect(upstream[0]!.cseq).toBe(2);
    expect(mid.decisions).toEqual({ register: 3, registerReply: 2, lookup: 0 });
  });
  it('PTH-1, PTH-2: a device over TCP registers through the mid-registrar; answers return on its connection', async () => {
    // Prepare
    const devicePort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 't1',
      service: 'bob',
      auth: { username: 'bob', password: 'secret' },
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 10000,
    });

    // Assess
    expect(result.errors).toBe('');
    expect(result.exitCode).toBe(0);
    expect(tracedMessages(result.messages, 'SIP/2.0 200')).toHaveLength(2);
    const upstream = await kamailio.dumpBindings('bob@example.com');
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.cseq).toBe(2);
  });
});

describe('Gateway mode 1: UDP retransmissions while the decision is pending', () => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { carol: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: {
        mode: 1,
        upstreamUri: 'sip:example.com',
        upstreamOutboundProxy: kamailio.address,
        listen: [`udp:127.0.0.1:${midPort}`],
      },
      registerDelayMs: 2000,
    });
  }, 20000);

  afterAll(async () => {
    await mid?.close();
    await kamailio?.stop();
    await stopAllProcesses();
  });

  it('GEN-6: a REGISTER retransmitted while its decision is pending is decided and relayed once', async () => {
    // Prepare
    const devicePort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'register-delayed-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'carol',
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 10000,
    });

    // Assess
    expect(result.exitCode).toBe(0);
    const sentRegisters = tracedMessages(result.messages, 'REGISTER sip:example.com');
    expect(sentRegisters.length).toBeGreaterThanOrEqual(3);
    expect(mid.decisions.register).toBe(1);
    expect(tracedMessages(result.messages, 'SIP/2.0 401')).toHaveLength(1);
  });
});
