import type { AorRecord } from '../../../functions/core/model';
import { stopAllProcesses } from '../../support/process';
import { TestDevice } from './test-device';
import { sleep, startTimedWork, waitFor, type TimedWorkSetup } from './timed-work-harness';

/** The De-REGISTERs (Contact …;expires=0) the forwarder saw for `callId`. */
function deregistersOf(setup: TimedWorkSetup, callId: string) {
  return setup.forwarder.requests.filter(
    (r) => r.message.method === 'REGISTER' && r.message.callId() === callId && /;expires=0\s*$/.test(r.message.header('Contact') ?? ''),
  );
}

async function recordOf(setup: TimedWorkSetup, aor: string): Promise<AorRecord | undefined> {
  return (await setup.mid.store.get(aor))?.record;
}

describe('timed work end to end: local mid-registrar + sweep ticker → Kamailio', () => {
  let setup: TimedWorkSetup | undefined;
  const devices: TestDevice[] = [];

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((device) => device.close()));
    await setup?.close();
    setup = undefined;
  });
  afterAll(async () => {
    await stopAllProcesses();
  });

  it('DRG-1, DRG-4, DRG-5, FWD-9, INV-2: a device that registers for 5 s and stops is De-REGISTERed upstream within deregisterBound, not before', async () => {
    // Prepare
    setup = await startTimedWork({ mode: 1, deregisterBound: 5, upstreamTimeout: 2 });
    const device = await TestDevice.open('alice', setup.midPort);
    devices.push(device);
    const ok = await device.register({ expiresSec: 5 });
    expect(ok.status).toBe(200);
    const binding = (await recordOf(setup, 'alice@example.com'))!.bindings[0]!;
    const upstream = await setup.kamailio.dumpBindings('alice@example.com');
    expect(upstream.map((b) => b.contact)).toEqual([binding.upstream!.contactUri]);

    // Act: the device stops; wait until Kamailio's binding is gone.
    const goneAtMs = await waitFor(async () => (await setup!.kamailio.dumpBindings('alice@example.com')).length === 0, 20_000);

    // Assess
    const [deregister, ...more] = deregistersOf(setup, device.callId);
    expect(more.filter((r) => r.message.cseq().seq !== deregister!.message.cseq().seq)).toEqual([]);
    expect(deregister!.atMs).toBeGreaterThanOrEqual(binding.expiresAtMs);
    expect(deregister!.atMs).toBeLessThanOrEqual(binding.expiresAtMs + setup.config.deregisterBoundMs);
    expect(goneAtMs).toBeLessThanOrEqual(binding.expiresAtMs + setup.config.deregisterBoundMs + setup.config.upstreamTimeoutMs);
    // DRG-5: Call-ID of the binding, CSeq above the device's, the contact as returned, no credentials.
    const message = deregister!.message;
    expect(message.cseq()).toEqual({ seq: 2, method: 'REGISTER' });
    expect(message.header('Contact')).toBe(`<${binding.upstream!.contactUri}>;expires=0`);
    expect(message.fromTag()).toBeDefined();
    expect(message.hasAuthorization()).toBe(false);
    expect(message.topVia()!.rport).toBeNull();
    // FWD-9: it left from the advertised (listening) socket, as the relays do.
    expect(deregister!.source).toBe(`127.0.0.1:${setup.midPort}`);
    expect(`${message.topVia()!.host}:${message.topVia()!.port}`).toBe(`127.0.0.1:${setup.midPort}`);
    await waitFor(async () => (await recordOf(setup!, 'alice@example.com')) === undefined, 5_000);
  }, 40_000);

  it('INV-1: a device whose relayed refresh is lost upstream keeps a valid upstream registration at every moment it is registered', async () => {
    // Prepare: O = 12 s, m = 2 s, e = 6 s refreshed every 3 s: every other refresh is relayed (M1-3).
    setup = await startTimedWork({ mode: 1, outgoingExpires: 12, refreshMargin: 2, deregisterBound: 5, upstreamTimeout: 2 });
    const device = await TestDevice.open('bob', setup.midPort);
    devices.push(device);
    let droppedCseq: number | undefined;
    setup.forwarder.drop = (request) => {
      if (request.callId() !== device.callId || request.cseq().seq < 2) return false;
      // Every transmission of the first relayed refresh is lost: its relay times out (RPL-9).
      droppedCseq ??= request.cseq().seq;
      return request.cseq().seq === droppedCseq;
    };
    const violations: string[] = [];
    let checks = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const record = await recordOf(setup!, 'bob@example.com');
        const upstream = await setup!.kamailio.dumpBindings('bob@example.com');
        const nowMs = Date.now();
        for (const binding of record?.bindings ?? []) {
          const lapsesAtMs = binding.upstream?.lapsesAtMs ?? 0;
          if (binding.endedAtMs !== undefined || binding.expiresAtMs <= nowMs || lapsesAtMs <= nowMs) continue;
          checks += 1;
          const held = upstream.find((b) => b.contact === binding.upstream!.contactUri);
          if (held === undefined) violations.push(`${nowMs}: ${binding.upstream!.contactUri} valid locally, absent upstream`);
        }
        await sleep(200);
      }
    })();

    // Act: register, then refresh every 3 s for 24 s; the lost relay answers 504 (RPL-9).
    const statuses: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      const startedMs = Date.now();
      statuses.push((await device.register({ expiresSec: 6 })).status);
      await sleep(Math.max(0, 3_000 - (Date.now() - startedMs)));
    }
    polling = false;
    await poller;

    // Assess
    expect(droppedCseq).toBeDefined();
    expect(setup.forwarder.requests.some((r) => r.dropped)).toBe(true);
    expect(statuses).toContain(504);
    expect(checks).toBeGreaterThan(50);
    expect(violations).toEqual([]);
  }, 60_000);

  it('GEN-1, DRG-6: with Kamailio stopped for 20 s, the De-REGISTERs that fell due meanwhile arrive after it returns', async () => {
    // Prepare
    setup = await startTimedWork({
      mode: 1,
      deregisterBound: 5,
      upstreamTimeout: 2,
      retryBackoffBase: 2,
      retryBackoffMax: 4,
      retryMaxAttempts: 12,
    });
    const users = ['dave', 'erin', 'frank'];
    for (const user of users) {
      const device = await TestDevice.open(user, setup.midPort);
      devices.push(device);
      expect((await device.register({ expiresSec: 3 })).status).toBe(200);
    }

    // Act: the bindings expire at +3 s while Kamailio is down.
    const stoppedAtMs = Date.now();
    await setup.stopKamailioFor(20_000);
    const backAtMs = Date.now();
    await waitFor(async () => {
      for (const user of users) if ((await recordOf(setup!, `${user}@example.com`)) !== undefined) return false;
      return true;
    }, 30_000, 250);

    // Assess
    expect(backAtMs - stoppedAtMs).toBeGreaterThanOrEqual(20_000);
    for (const device of devices) {
      const attempts = deregistersOf(setup, device.callId);
      expect(attempts.some((r) => r.atMs < backAtMs)).toBe(true);
      const answered = setup.forwarder.responses.filter((r) => r.message.callId() === device.callId && r.message.status === 200 && r.atMs >= backAtMs);
      expect(answered.length).toBeGreaterThanOrEqual(1);
    }
    expect(setup.recorder.counts.get('deregister_failed')).toBeUndefined();
  }, 90_000);

  it('DRG-2, M2-1: mode 2 De-REGISTERs the AoR only after its last device is gone', async () => {
    // Prepare: device A for 3 s, device B for 12 s, one aggregated upstream contact.
    setup = await startTimedWork({ mode: 2, deregisterBound: 5, upstreamTimeout: 2 });
    const a = await TestDevice.open('carol', setup.midPort);
    const b = await TestDevice.open('carol', setup.midPort);
    devices.push(a, b);
    expect((await a.register({ expiresSec: 3 })).status).toBe(200);
    expect((await b.register({ expiresSec: 12 })).status).toBe(200);
    const record = (await recordOf(setup, 'carol@example.com'))!;
    const aggregated = record.incarnation!.upstream!.contactUri;
    const lastExpiresAtMs = Math.max(...record.bindings.map((binding) => binding.expiresAtMs));
    expect((await setup.kamailio.dumpBindings('carol@example.com')).map((x) => x.contact)).toEqual([aggregated]);

    // Act
    const goneAtMs = await waitFor(async () => (await setup!.kamailio.dumpBindings('carol@example.com')).length === 0, 30_000, 200);

    // Assess
    const deregisters = setup.forwarder.requests.filter((r) => r.message.header('Contact') === `<${aggregated}>;expires=0`);
    expect(deregisters.length).toBeGreaterThanOrEqual(1);
    expect(new Set(deregisters.map((r) => r.message.cseq().seq)).size).toBe(1);
    expect(deregisters[0]!.atMs).toBeGreaterThanOrEqual(lastExpiresAtMs);
    expect(goneAtMs).toBeLessThanOrEqual(lastExpiresAtMs + setup.config.deregisterBoundMs + setup.config.upstreamTimeoutMs);
  }, 60_000);
});
