import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../functions/core/config';
import { openLocalRuntime, type LocalRuntime } from '../../../sip-gateway/src/cli/local-runtime';
import { createLogger } from '../../../sip-gateway/src/observability/logger';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp } from '../../support/sipp';

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

describe('npm start runtime: timed work from the in-process ticker', () => {
  let kamailio: KamailioInstance;
  let runtime: LocalRuntime;
  let midPort: number;
  let dataDir: string;

  beforeAll(async () => {
    midPort = await allocatePort();
    // Our own REGISTERs carry no credentials: upstream trusts the mid-registrar's socket (DRG-11).
    kamailio = await startKamailio({ trustedSources: [`127.0.0.1:${midPort}`] });
    dataDir = mkdtempSync(join(tmpdir(), 'runtime-'));
    const config = parseConfig({
      mode: 1,
      upstreamUri: 'sip:example.com',
      upstreamOutboundProxy: kamailio.address,
      listen: [`udp:127.0.0.1:${midPort}`],
      healthPort: await allocatePort(),
      dataDir,
    });
    runtime = await openLocalRuntime(config, { gatewayId: 'gw-test', logger: createLogger({ level: 'silent' }), tickIntervalMs: 500 });
  }, 20000);

  afterAll(async () => {
    await runtime?.stop(1000);
    await kamailio?.stop();
    await stopAllProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('DRG-1, DRG-4, FWD-9: a binding that expires is De-REGISTERed upstream from the advertised socket', async () => {
    // Prepare
    const devicePort = await allocatePort();
    const registered = await runSipp({
      scenario: 'register-uac.xml',
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'dave',
      keys: { domain: 'example.com', expires: '10' },
      timeoutMs: 6000,
    });
    expect(registered.exitCode).toBe(0);
    const upstreamBefore = await kamailio.dumpBindings('dave@example.com');

    // Act: the device stops refreshing; its binding ends after 10 s.
    const removed = await waitFor(async () => (await kamailio.dumpBindings('dave@example.com')).length === 0, 25000);

    // Assess
    expect(upstreamBefore).toHaveLength(1);
    expect(upstreamBefore[0]!.expiresSec).toBeGreaterThan(3500);
    expect(removed).toBe(true);
  }, 40000);
});
