import { join } from 'node:path';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');

describe('Gateway mode 1: a call from the main registrar reaches the device through the mid-registrar', () => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;
  let devicePort: number;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: {
        mode: 1,
        upstreamUri: 'sip:example.com',
        upstreamOutboundProxy: kamailio.address,
        listen: [`udp:127.0.0.1:${midPort}`],
        inviteTimeout: 2,
      },
    });
    devicePort = await allocatePort();
    const registered = await runSipp({
      scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'alice',
      auth: { username: 'alice', password: 'secret' },
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 10000,
    });
    if (registered.exitCode !== 0) throw new Error(`registration failed: ${registered.errors}`);
  }, 30000);

  afterAll(async () => {
    await mid?.close();
    await kamailio?.stop();
    await stopAllProcesses();
  });

  it('LKP-2, LKP-4, LKP-9: INVITE via Kamailio → device over its flow with our Record-Route; ACK and BYE follow it', async () => {
    // Prepare
    const callerPort = await allocatePort();

    // Act
    const device = runSipp({
      scenario: join(SCENARIOS, 'invite-uas.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      timeoutMs: 12000,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const caller = await runSipp({
      scenario: join(SCENARIOS, 'invite-uac.xml'),
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: callerPort },
      transport: 'u1',
      service: 'alice',
      keys: { domain: 'example.com' },
      timeoutMs: 10000,
    });
    const callee = await device;

    // Assess
    expect(caller.errors).toBe('');
    expect(caller.exitCode).toBe(0);
    expect(callee.exitCode).toBe(0);
    // LKP-4: the device got its own contact as Request-URI and our flow-token Record-Route on top (LKP-9).
    expect(callee.messages).toMatch(new RegExp(`^INVITE sip:alice@127\\.0\\.0\\.1:${devicePort};transport=UDP SIP/2\\.0`, 'm'));
    expect(callee.messages).toMatch(new RegExp(`^Record-Route: <sip:[A-Za-z0-9_-]+@127\\.0\\.0\\.1:${midPort};lr>`, 'm'));
    expect(callee.messages).toMatch(/^BYE /m);
    expect(mid.decisions.lookup).toBe(1);
  });

  it('LKP-6: a branch still ringing after inviteTimeout (Timer C) is CANCELled and the caller gets 408', async () => {
    // Prepare
    const callerPort = await allocatePort();
    const device = runSipp({
      scenario: join(SCENARIOS, 'invite-ringing-cancelled-uas.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      timeoutMs: 12000,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Act
    const caller = await runSipp({
      scenario: join(SCENARIOS, 'invite-timeout-uac.xml'),
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: callerPort },
      transport: 'u1',
      service: 'alice',
      keys: { domain: 'example.com' },
      timeoutMs: 10000,
    });
    const callee = await device;

    // Assess
    expect(caller.errors).toBe('');
    expect([caller.exitCode, callee.exitCode]).toEqual([0, 0]);
    expect(callee.messages).toMatch(/^CANCEL sip:alice@/m);
  }, 20000);
});
