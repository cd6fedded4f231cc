import { join } from 'node:path';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');

/** The SIP messages of a SIPp trace that start with `startLine`, in order. */
function tracedMessages(trace: string, startLine: string): string[] {
  return trace
    .split(/^-{10,}.*$/m)
    .map((block) => block.trim().replace(/^.*message (sent|received).*\n/, '').trim())
    .filter((block) => block.startsWith(startLine));
}

async function registerDevice(midPort: number, user: string, devicePort: number, scenario: string): Promise<Awaited<ReturnType<typeof runSipp>>> {
  return runSipp({
    scenario: join(SCENARIOS, scenario),
    remote: `127.0.0.1:${midPort}`,
    local: { host: '127.0.0.1', port: devicePort },
    transport: 'u1',
    service: user,
    auth: { username: user, password: 'secret' },
    keys: { domain: 'example.com', expires: '60' },
    timeoutMs: 10000,
  });
}

describe.each([0, 2] as const)('Gateway mode %i: SIPp devices → mid-registrar → Kamailio', (mode) => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: {
        mode,
        upstreamUri: 'sip:example.com',
        upstreamOutboundProxy: kamailio.address,
        listen: [`udp:127.0.0.1:${midPort}`],
      },
    });
  }, 20000);

  afterAll(async () => {
    await mid?.close();
    await kamailio?.stop();
    await stopAllProcesses();
  });

  if (mode === 0) {
    it('M0-1, FWD-8: every REGISTER is relayed with the device expiry; upstream sees the refresh', async () => {
      // Prepare
      const devicePort = await allocatePort();

      // Act
      const result = await registerDevice(midPort, 'alice', devicePort, 'register-auth-refresh-auth-uac.xml');

      // Assess
      expect(result.errors).toBe('');
      expect(result.exitCode).toBe(0);
      const upstream = await kamailio.dumpBindings('alice@example.com');
      expect(upstream).toHaveLength(1);
      expect(upstream[0]!.contact).toMatch(new RegExp(`^sip:alice@127\\.0\\.0\\.1:${midPort};ctid=\\d+$`));
      expect(upstream[0]!.expiresSec).toBeLessThanOrEqual(60);
      expect(upstream[0]!.cseq).toBe(3);
      expect(mid.decisions).toMatchObject({ register: 3, registerReply: 3 });
    });
  } else {
    it('M2-1, M2-2, FWD-6, REG-10: two devices share one aggregated upstream contact; the second 200 lists both', async () => {
      // Prepare
      const [portA, portB] = [await allocatePort(), await allocatePort()];

      // Act
      const first = await registerDevice(midPort, 'alice', portA, 'register-auth-refresh-uac.xml');
      const second = await registerDevice(midPort, 'alice', portB, 'register-auth-refresh-uac.xml');

      // Assess
      expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
      const upstream = await kamailio.dumpBindings('alice@example.com');
      expect(upstream).toHaveLength(1);
      expect(upstream[0]!.contact).toMatch(new RegExp(`^sip:alice%40example\\.com@127\\.0\\.0\\.1:${midPort};ctid=\\d+$`));
      expect(upstream[0]!.expiresSec).toBeGreaterThan(3500);
      const lastOk = tracedMessages(second.messages, 'SIP/2.0 200').pop() ?? '';
      expect(lastOk).toContain(`sip:alice@127.0.0.1:${portA};transport=UDP`);
      expect(lastOk).toContain(`sip:alice@127.0.0.1:${portB};transport=UDP`);
      // M2-2: the second device's first REGISTER was relayed (new contact), its refresh absorbed.
      expect(upstream[0]!.cseq).toBe(2);
    });
  }
});
