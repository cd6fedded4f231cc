import { join } from 'node:path';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp } from '../../support/sipp';
import { startLocalGateway, type LocalGateway } from './local-gateway';

const SCENARIOS = join(__dirname, 'scenarios');

describe('Gateway drain (SIGTERM)', () => {
  let kamailio: KamailioInstance;
  let mid: LocalGateway;
  let midPort: number;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { carol: 'secret' } });
    midPort = await allocatePort();
    mid = await startLocalGateway({
      config: { mode: 1, upstreamUri: 'sip:example.com', upstreamOutboundProxy: kamailio.address, listen: [`udp:127.0.0.1:${midPort}`] },
      registerDelayMs: 1000,
    });
  }, 20000);

  afterAll(async () => {
    await mid?.close();
    await kamailio?.stop();
    await stopAllProcesses();
  });

  it('an in-flight REGISTER still gets its answer; drain resolves only after it; new requests get 503', async () => {
    // Prepare
    const [devicePort, latePort] = [await allocatePort(), await allocatePort()];
    const inFlight = runSipp({
      scenario: join(SCENARIOS, 'register-delayed-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'carol',
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 8000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Act
    let drained = false;
    const draining = mid.gateway.drain(5000).then(() => (drained = true));
    const late = await runSipp({
      scenario: join(SCENARIOS, 'register-unavailable-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: latePort },
      transport: 'u1',
      service: 'carol',
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 5000,
    });
    const drainedBeforeAnswer = drained;
    const first = await inFlight;
    await draining;

    // Assess
    expect(late.exitCode).toBe(0);
    expect(late.messages).toMatch(/^Retry-After: 30/m);
    expect(drainedBeforeAnswer).toBe(false);
    expect(first.exitCode).toBe(0);
    expect(mid.gateway.inFlight).toBe(0);
  });
});
