import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';

const RUNS = Number(process.env.INV_RUNS ?? 300) / 6;

type TestRecord = { aor: string } & Record<string, unknown>;

/** Rebuilds `value` with some leaves replaced, sharing every unchanged part (as the core does). */
function withLeavesChanged(value: unknown, pick: () => boolean, leaf: () => unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => withLeavesChanged(item, pick, leaf));
    return items.every((item, i) => item === value[i]) ? value : items;
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = withLeavesChanged(item, pick, leaf);
      changed ||= copy[key] !== item;
    }
    return changed ? copy : value;
  }
  return pick() ? leaf() : value;
}

function withoutAor(record: TestRecord): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...record };
  delete rest.aor;
  return rest;
}

/** Leaves of every JSON kind, with strings that need escaping or are not ASCII, and numbers of every form. */
const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 0 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
const body = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });

/** A put: leaves of the last record changed (a patch line), or a new body (a whole-record line, mostly). */
const change = fc.record({ aor: fc.integer({ min: 0, max: 2 }), whole: fc.option(body, { freq: 4 }), picks: fc.infiniteStream(fc.boolean()), leaves: fc.infiniteStream(leaf) });

describe('Property: the embedded store replays its journal to the state it acknowledged', () => {
  it('GEN-1: after any puts (patch and whole-record lines), a reopened store holds the last record and version of each AoR', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 30 }), async (changes) => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-replay-'));
        const store = EmbeddedBindingStore.open<TestRecord>({ dataDir, shardCount: 2, freezeRecords: false });
        const last = new Map<string, { record: TestRecord; version: number }>();
        try {
          for (const c of changes) {
            const aor = `a${c.aor}@x`;
            const held = last.get(aor);
            const pick = c.picks[Symbol.iterator]();
            const nextLeaf = c.leaves[Symbol.iterator]();
            const record: TestRecord =
              held === undefined || c.whole !== null
                ? { ...(c.whole ?? {}), aor }
                : { ...(withLeavesChanged(withoutAor(held.record), () => pick.next().value as boolean, () => nextLeaf.next().value) as object), aor };
            const version = await store.put(record, held?.version ?? 0, { dueAtMs: 1_000, ttlEpochSec: 4_000_000_000 });
            last.set(aor, { record, version });
          }
        } finally {
          store.close();
        }
        const reopened = EmbeddedBindingStore.open<TestRecord>({ dataDir, shardCount: 2, freezeRecords: false });
        try {
          for (const [aor, { record, version }] of last) expect(await reopened.get(aor)).toEqual({ record: JSON.parse(JSON.stringify(record)) as unknown, version });
        } finally {
          reopened.close();
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
