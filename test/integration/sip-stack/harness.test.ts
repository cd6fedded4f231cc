import { allocatePort } from '../../support/ports';
import { runSipp, startSipp } from '../../support/sipp';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { stopAllProcesses } from '../../support/process';

describe('Harness: SIPp against Kamailio on loopback', () => {
  let kamailio: KamailioInstance;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret', bob: 'secret', frank: 'secret', carol: 'right' }, trustedSources: ['127.0.0.2'] });
  }, 15000);

  afterAll(async () => {
    await kamailio?.stop();
    await stopAllProcesses();
  });

  it.each(['u1', 't1'] as const)('REGISTER over %s is challenged 401, then accepted 200 and stored', async (transport) => {
    // Prepare
    const user = transport === 'u1' ? 'alice' : 'bob';
    const localPort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: 'register-auth-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: localPort },
      transport,
      service: user,
      auth: { username: user, password: 'secret' },
      keys: { domain: 'example.com', expires: '300' },
      timeoutMs: 8000,
    });

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stats).toEqual({ successfulCalls: 1, failedCalls: 0 });
    expect(result.messages).toMatch(/SIP\/2\.0 401 Unauthorized/);
    expect(result.messages).toMatch(/Authorization: Digest username="[a-z]+"/);
    const bindings = await kamailio.dumpBindings(`${user}@example.com`);
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.contact).toContain(`sip:${user}@127.0.0.1:${localPort}`);
    expect(bindings[0]!.expiresSec).toBeGreaterThan(290);
  });

  it('REGISTER with a wrong password is never stored', async () => {
    // Prepare
    const localPort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: 'register-auth-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: localPort },
      transport: 'u1',
      service: 'carol',
      auth: { username: 'carol', password: 'wrong' },
      keys: { domain: 'example.com', expires: '300' },
      timeoutMs: 6000,
    });

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(await kamailio.dumpBindings('carol@example.com')).toEqual([]);
  });

  it('REGISTER from a trusted source is stored without a challenge (our De-REGISTERs carry no credentials)', async () => {
    // Prepare
    const localPort = await allocatePort('127.0.0.2');

    // Act
    const result = await runSipp({
      scenario: 'register-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.2', port: localPort },
      transport: 'u1',
      service: 'dave',
      keys: { domain: 'example.com', expires: '120' },
      timeoutMs: 6000,
    });

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.messages).not.toMatch(/401 Unauthorized/);
    const bindings = await kamailio.dumpBindings('dave@example.com');
    expect(bindings.map((binding) => binding.contact)).toEqual([`sip:dave@127.0.0.2:${localPort};transport=UDP`]);
  });

  it('the same REGISTER from an untrusted source is challenged', async () => {
    // Prepare
    const localPort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: 'register-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: localPort },
      transport: 'u1',
      service: 'erin',
      keys: { domain: 'example.com', expires: '120' },
      timeoutMs: 6000,
    });

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.messages).toMatch(/401 Unauthorized/);
    expect(await kamailio.dumpBindings('erin@example.com')).toEqual([]);
  });

  it('relays a MESSAGE for a registered AoR to its contact, with Record-Route', async () => {
    // Prepare
    const devicePort = await allocatePort();
    const registered = await runSipp({
      scenario: 'register-auth-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'frank',
      auth: { username: 'frank', password: 'secret' },
      keys: { domain: 'example.com', expires: '300' },
      timeoutMs: 6000,
    });
    expect(registered.exitCode).toBe(0);
    const device = startSipp({
      scenario: 'message-uas.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      timeoutMs: 6000,
    });
    await device.ready;

    // Act
    const sender = await runSipp({
      scenario: 'message-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: await allocatePort() },
      transport: 'u1',
      service: 'frank',
      keys: { domain: 'example.com' },
      timeoutMs: 6000,
    });
    const received = await device.done;

    // Assess
    expect(sender.exitCode).toBe(0);
    expect(received.exitCode).toBe(0);
    expect(received.messages).toMatch(new RegExp(`MESSAGE sip:frank@127\\.0\\.0\\.1:${devicePort};transport=UDP SIP/2\\.0`));
    expect(received.messages).toMatch(new RegExp(`Record-Route: <sip:127\\.0\\.0\\.1:${kamailio.port};lr`));
  });

  it('answers 404 to a MESSAGE for an AoR without bindings', async () => {
    // Prepare
    const localPort = await allocatePort();

    // Act
    const sender = await runSipp({
      scenario: 'message-uac.xml',
      remote: kamailio.address,
      local: { host: '127.0.0.1', port: localPort },
      transport: 'u1',
      service: 'nobody',
      keys: { domain: 'example.com' },
      timeoutMs: 6000,
    });

    // Assess
    expect(sender.exitCode).not.toBe(0);
    expect(sender.messages).toMatch(/SIP\/2\.0 404 Not Found/);
  });
});
