import fc from 'fast-check';
import { applyPatch, diffRecord, type PatchOp } from '../../../functions/store/record-patch';

const RUNS = Number(process.env.INV_RUNS ?? 300);

/** Rebuilds `value` with some leaves replaced: the structure-keeping changes a patch can express. */
function withLeavesChanged(value: unknown, pick: () => boolean, leaf: () => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => withLeavesChanged(item, pick, leaf));
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = withLeavesChanged(item, pick, leaf);
    return copy;
  }
  return pick() ? leaf() : value;
}

const record = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((r) => ({ ...r, aor: 'a' }));

describe('Property: record patches replay to the record they were taken from', () => {
  it('whatever two records are compared, a patch (when given) applied to the first gives the second', () => {
    fc.assert(
      fc.property(record, record, (prev, next) => {
        const patch = diffRecord(prev, next, 1_000);
        if (patch === undefined) return;
        const copy = JSON.parse(JSON.stringify(prev)) as object;
        applyPatch(copy, JSON.parse(patch) as PatchOp[]);
        expect(copy).toEqual(JSON.parse(JSON.stringify(next)));
      }),
      { numRuns: RUNS },
    );
  });

  it('a record with only leaves changed always gets a patch, and it replays exactly', () => {
    fc.assert(
      fc.property(record, fc.infiniteStream(fc.boolean()), fc.infiniteStream(fc.jsonValue({ maxDepth: 0 })), (prev, picks, leaves) => {
        const pick = picks[Symbol.iterator]();
        const nextLeaf = leaves[Symbol.iterator]();
        const next = withLeavesChanged(prev, () => pick.next().value as boolean, () => nextLeaf.next().value) as object;
        const patch = diffRecord(prev, next, 1_000);
        expect(patch).toBeDefined();
        const copy = JSON.parse(JSON.stringify(prev)) as object;
        applyPatch(copy, JSON.parse(patch as string) as PatchOp[]);
        expect(copy).toEqual(JSON.parse(JSON.stringify(next)));
      }),
      { numRuns: RUNS },
    );
  });
});
