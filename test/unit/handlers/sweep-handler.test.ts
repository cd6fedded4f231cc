import { createSweepHandler, readSweepEvent, SweepEventError } from '../../../functions/handlers/sweep-handler';
import type { SweepPassReport, SweepService } from '../../../functions/handlers/sweep-service';
import { testConfig } from '../../support/core-builders';

const PASS: SweepPassReport = { aors: 1, deregistersSent: 1, refreshesSent: 0, failures: 0, conflicts: 0, deleted: 1, errors: 0 };

/** A service recording when each pass started; each pass takes `passMs` of fake time. */
function fakeService(clock: { nowMs: number }, passMs: number): { service: SweepService; starts: Array<{ shard: number; nowMs: number }> } {
  const starts: Array<{ shard: number; nowMs: number }> = [];
  const service = {
    sweepShard: async (shard: number, nowMs: number) => {
      starts.push({ shard, nowMs });
      clock.nowMs += passMs;
      return PASS;
    },
  } as unknown as SweepService;
  return { service, starts };
}

describe('sweep handler', () => {
  it('DRG-4: one invocation sweeps its shard every 5 s for 55 s, so a rate(1 minute) schedule keeps the 30 s bound', async () => {
    // Prepare
    const config = testConfig({ shardCount: 8 });
    const clock = { nowMs: 1_000_000 };
    const { service, starts } = fakeService(clock, 300);
    const handler = createSweepHandler({ config, service, nowMs: () => clock.nowMs, sleep: async (ms) => void (clock.nowMs += ms) });

    // Act
    const report = await handler({ shard: 3, shardCount: 8 }, { getRemainingTimeInMillis: () => 90_000 });

    // Assess
    expect(starts.map((s) => s.nowMs - 1_000_000)).toEqual([0, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 55_000]);
    expect(starts.every((s) => s.shard === 3)).toBe(true);
    expect(report).toMatchObject({ shard: 3, passes: 12, deregistersSent: 12, deleted: 12 });
    const gaps = starts.slice(1).map((s, i) => s.nowMs - starts[i]!.nowMs);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(config.deregisterBoundMs);
  });

  it('starts no pass that could not finish before the Lambda timeout (remaining time − upstreamTimeout)', async () => {
    // Prepare
    const config = testConfig({ shardCount: 2, upstreamTimeout: 10 });
    const clock = { nowMs: 0 };
    const { service, starts } = fakeService(clock, 0);
    const handler = createSweepHandler({ config, service, nowMs: () => clock.nowMs, sleep: async (ms) => void (clock.nowMs += ms) });

    // Act
    await handler({ shard: 0 }, { getRemainingTimeInMillis: () => 30_000 });

    // Assess: last start ≤ 30 − 10 − 1 = 19 s.
    expect(starts.map((s) => s.nowMs)).toEqual([0, 5_000, 10_000, 15_000]);
  });

  it('a pass slower than the interval is followed at once by the next, without sleeping', async () => {
    // Prepare
    const config = testConfig({ shardCount: 1 });
    const clock = { nowMs: 0 };
    const { service, starts } = fakeService(clock, 7_000);
    const sleeps: number[] = [];
    const handler = createSweepHandler({
      config,
      service,
      nowMs: () => clock.nowMs,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.nowMs += ms;
      },
      loopBudgetMs: 20_000,
    });

    // Act
    await handler({ shard: 0 });

    // Assess
    expect(starts.map((s) => s.nowMs)).toEqual([0, 7_000, 14_000, 21_000]);
    expect(sleeps).toEqual([]);
  });

  it('GEN-1: a failing pass is reported and the loop goes on, so one store hiccup does not stall the shard for a minute', async () => {
    // Prepare
    const config = testConfig({ shardCount: 1 });
    const clock = { nowMs: 0 };
    let calls = 0;
    const service = {
      sweepShard: async () => {
        calls += 1;
        if (calls === 1) throw new Error('store down');
        return PASS;
      },
    } as unknown as SweepService;
    const passErrors: unknown[] = [];
    const handler = createSweepHandler({
      config,
      service,
      nowMs: () => clock.nowMs,
      sleep: async (ms) => void (clock.nowMs += ms),
      onPassError: (error) => passErrors.push(error),
      loopBudgetMs: 10_000,
    });

    // Act
    const report = await handler({ shard: 0 });

    // Assess
    expect(passErrors).toHaveLength(1);
    expect(report.passes).toBe(2);
  });

  it('fails the invocation when every pass failed, after publishing its report', async () => {
    // Prepare
    const config = testConfig({ shardCount: 1 });
    const ended: unknown[] = [];
    const service = { sweepShard: async () => Promise.reject(new Error('store down')) } as unknown as SweepService;
    const handler = createSweepHandler({ config, service, nowMs: () => 0, sleep: async () => undefined, onInvocationEnd: (r) => ended.push(r), loopBudgetMs: 0 });

    // Act
    const run = handler({ shard: 0 });

    // Assess
    await expect(run).rejects.toThrow('store down');
    expect(ended).toHaveLength(1);
  });

  it.each([[{}], [{ shard: -1 }], [{ shard: 8 }], [{ shard: 1.5 }], [{ shard: '1' }], [null], [{ shard: 1, shardCount: 4 }]])(
    'refuses the event %j (shards 0..7): the schedules and the function must agree on sharding',
    (event) => {
      // Prepare
      const shardCount = 8;

      // Act
      const read = () => readSweepEvent(event, shardCount);

      // Assess
      expect(read).toThrow(SweepEventError);
    },
  );
});
