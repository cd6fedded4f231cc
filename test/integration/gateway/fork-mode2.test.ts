import { join } from 'node:path';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp, type SippResult } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');

function device(port: number, scenario: string): Promise<SippResult> {
  return runSipp({ scenario: join(SCENARIOS, scenario), remote: '127.0.0.1:5060', local: { host: '127.0.0.1', port }, transport: 'u1', timeoutMs: 12000 });
}

describe('Gateway mode 2: calls fork to every device of the AoR', () => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;
  let devicePorts: number[];

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: { mode: 2, upstreamUri: 'sip:example.com', upstreamOutboundProxy: kamailio.address, listen: [`udp:127.0.0.1:${midPort}`] },
    });
    devicePorts = [await allocatePort(), await allocatePort()];
    for (const port of devicePorts) {
      const registered = await runSipp({
        scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
        remote: `127.0.0.1:${midPort}`,
        local: { host: '127.0.0.1', port },
        transport: 'u1',
        service: 'alice',
        auth: { username: 'alice', password: 'secret' },
        keys: { domain: 'example.com', expires: '120' },
        timeoutMs: 10000,
      });
      if (registered.exitCode !== 0) throw new Error(`registration failed: ${registered.errors}`);
    }
  }, 40000);

  afterAll(async () => {
    await mid?.close();
    await kamailio?.stop();
    await stopAllProcesses();
  });

  async function call(scenario: string, callerPort: number): Promise<SippResult> {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return runSipp({
      scenario: join(SCENARIOS, scenario),
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: callerPort },
      transport: 'u1',
      service: 'alice',
      keys: { domain: 'example.com' },
      timeoutMs: 10000,
    });
  }

  it('LKP-5, LKP-6: both devices get the INVITE in parallel; the 200 reaches the caller, the 486 does not', async () => {
    // Prepare
    const callerPort = await allocatePort();
    const answering = device(devicePorts[0]!, 'invite-uas.xml');
    const busy = device(devicePorts[1]!, 'invite-busy-uas.xml');

    // Act
    const caller = await call('invite-uac.xml', callerPort);
    const [a, b] = await Promise.all([answering, busy]);

    // Assess
    expect(caller.errors).toBe('');
    expect([caller.exitCode, a.exitCode, b.exitCode]).toEqual([0, 0, 0]);
    expect(b.messages).toMatch(/^INVITE sip:alice@127\.0\.0\.1:\d+;transport=UDP SIP\/2\.0/m);
    expect(caller.messages).not.toMatch(/^SIP\/2\.0 486/m);
  });

  it('LKP-7: a CANCEL from the caller CANCELs every ringing branch and the INVITE gets 487', async () => {
    // Prepare
    const callerPort = await allocatePort();
    const ringing = devicePorts.map((port) => device(port, 'invite-ringing-cancelled-uas.xml'));

    // Act
    const caller = await call('invite-cancel-uac.xml', callerPort);
    const devices = await Promise.all(ringing);

    // Assess
    expect(caller.errors).toBe('');
    expect(caller.exitCode).toBe(0);
    expect(devices.map((d) => d.exitCode)).toEqual([0, 0]);
    expect(caller.messages).toMatch(/^SIP\/2\.0 487/m);
  });
});
