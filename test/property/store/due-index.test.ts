import fc from 'fast-check';
import { DueIndex } from '../../../functions/store/due-index';

const RUNS = Number(process.env.INV_RUNS ?? 300);

type Step = { kind: 'set'; aor: number; dueAtMs: number | undefined } | { kind: 'find'; nowMs: number; limit: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), aor: fc.integer({ min: 0, max: 7 }), dueAtMs: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('find' as const), nowMs: fc.integer({ min: 0, max: 60 }), limit: fc.integer({ min: 1, max: 10 }) }),
);

describe('Property: the due index answers like a scan of the current due times', () => {
  it('findDue lists distinct AoRs due by nowMs, earliest first, at most limit, skipping none earlier than the last listed', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const index = new DueIndex(1);
        const model = new Map<string, number>();
        for (const s of steps) {
          if (s.kind === 'set') {
            index.set(`a${s.aor}`, s.dueAtMs);
            if (s.dueAtMs === undefined) model.delete(`a${s.aor}`);
            else model.set(`a${s.aor}`, s.dueAtMs);
            continue;
          }
          const found = index.findDue(0, s.nowMs, s.limit);
          const due = [...model].filter(([, d]) => d <= s.nowMs);
          expect(found).toHaveLength(Math.min(s.limit, due.length));
          expect(new Set(found).size).toBe(found.length);
          const times = found.map((aor) => model.get(aor)!);
          times.forEach((d, i) => {
            expect(d).toBeLessThanOrEqual(s.nowMs);
            if (i > 0) expect(d).toBeGreaterThanOrEqual(times[i - 1]);
          });
          const last = times.length === 0 ? -1 : times[times.length - 1];
          for (const [aor, d] of due) if (d < last) expect(found).toContain(aor);
        }
        expect(index.size).toBe(model.size);
      }),
      { numRuns: RUNS },
    );
  });
});
