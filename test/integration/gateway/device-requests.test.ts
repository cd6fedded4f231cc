import { join } from 'node:path';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp, type SippResult } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');

describe('Gateway mode 1: requests from devices', () => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret', bob: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: {
        mode: 1,
        upstreamUri: 'sip:example.com',
        upstreamOutboundProxy: kamailio.address,
        // Devices share 127.0.0.1 with Kamailio here: trust Kamailio's socket only, not the whole address.
        trustedUpstreamSources: [kamailio.address],
        listen: [`udp:127.0.0.1:${midPort}`],
      },
    });
    for (const user of ['alice', 'bob']) {
      ports[user] = await allocatePort();
      const registered = await runSipp({
        scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
        remote: `127.0.0.1:${midPort}`,
        local: { host: '127.0.0.1', port: ports[user]! },
        transport: 'u1',
        service: user,
        auth: { username: user, password: 'secret' },
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

  it('LKP-1, LKP-8, LKP-9: a device MESSAGE goes upstream with our Record-Route and comes back to the other device', async () => {
    // Prepare
    const receiver: Promise<SippResult> = runSipp({
      scenario: join(SCENARIOS, 'message-uas.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: ports.bob! },
      transport: 'u1',
      timeoutMs: 10000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Act
    const sender = await runSipp({
      scenario: join(SCENARIOS, 'message-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: ports.alice! },
      transport: 'u1',
      service: 'alice',
      keys: { domain: 'example.com', ruri: 'sip:bob@example.com' },
      timeoutMs: 10000,
    });
    const bob = await receiver;

    // Assess
    expect(sender.errors).toBe('');
    expect([sender.exitCode, bob.exitCode]).toEqual([0, 0]);
    // Two passes through the mid-registrar: relayed upstream (alice's flow), then routed to bob's flow.
    const recordRoutes = bob.messages.match(new RegExp(`Record-Route: <sip:[A-Za-z0-9_-]+@127\\.0\\.0\\.1:${midPort};lr>`, 'g')) ?? [];
    expect(recordRoutes).toHaveLength(2);
    expect(bob.messages).toMatch(new RegExp(`^MESSAGE sip:bob@127\\.0\\.0\\.1:${ports.bob};transport=UDP SIP/2\\.0`, 'm'));
    expect(mid.decisions.lookup).toBe(2);
  });

  it('LKP-10: a request from an untrusted source for one of our contacts gets 403', async () => {
    // Prepare
    const strangerPort = await allocatePort();

    // Act
    const stranger = await runSipp({
      scenario: join(SCENARIOS, 'message-forbidden-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: strangerPort },
      transport: 'u1',
      service: 'mallory',
      keys: { domain: 'example.com', ruri: `sip:alice@127.0.0.1:${midPort};ctid=1234` },
      timeoutMs: 6000,
    });

    // Assess
    expect(stranger.exitCode).toBe(0);
    expect(stranger.messages).toMatch(/^P-Registrar-Error: Forbidden/m);
  });

  it('LKP-1: OPTIONS to the mid-registrar itself (no user part) gets 200', async () => {
    // Prepare
    const pingPort = await allocatePort();

    // Act
    const ping = await runSipp({
      scenario: 'options-uac.xml',
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: pingPort },
      transport: 'u1',
      keys: { domain: 'example.com' },
      timeoutMs: 5000,
    });

    // Assess
    expect(ping.exitCode).toBe(0);
  });
});
