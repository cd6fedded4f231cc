import { applyPatch, diffRecord, PatchMismatchError, type PatchOp } from '../../../functions/store/record-patch';

/** A record shaped like the core's AoR record: the refresh below is what an absorbed REGISTER changes. */
function aorRecord(): Record<string, unknown> {
  const upstream = { callId: 'up@mid', highestCseq: 4, lapsesAtMs: 9_000 };
  return {
    aor: 'alice@example.com',
    bindings: [{ contactId: '17', expiresAtMs: 1_000, cseq: 7, flow: { remoteAddress: '192.0.2.1', remotePort: 5060 }, path: [], upstream }],
    pendingRelays: [],
    relayCount: 1,
  };
}

function refreshed(record: Record<string, unknown>): Record<string, unknown> {
  const [binding] = record.bindings as Array<Record<string, unknown>>;
  return { ...record, bindings: [{ ...binding, expiresAtMs: 61_000, cseq: 8, flow: { remoteAddress: '192.0.2.1', remotePort: 5062 } }] };
}

function replayed(prev: object, patch: string): unknown {
  const copy = JSON.parse(JSON.stringify(prev)) as object;
  applyPatch(copy, JSON.parse(patch) as PatchOp[]);
  return copy;
}

describe('Module: record-patch', () => {
  describe('Function: diffRecord', () => {
    it('journals a refresh as the values it changed, skipping parts shared with the previous version', () => {
      const prev = aorRecord();
      const next = refreshed(prev);
      const patch = diffRecord(prev, next, 24);
      expect(JSON.parse(patch as string)).toEqual([
        [['bindings', 0, 'expiresAtMs'], 61_000],
        [['bindings', 0, 'cseq'], 8],
        [['bindings', 0, 'flow', 'remotePort'], 5062],
      ]);
      expect(replayed(prev, patch as string)).toEqual(next);
    });

    it('writes numbers as JSON does, non-finite ones as null', () => {
      const prev = { aor: 'a', a: 1, b: 2, c: 3, d: 4 };
      const next = { aor: 'a', a: -0, b: 1e21, c: Number.NaN, d: 0.1 };
      expect(JSON.parse(diffRecord(prev, next, 24) as string)).toEqual([
        [['a'], 0],
        [['b'], 1e21],
        [['c'], null],
        [['d'], 0.1],
      ]);
      expect(replayed(prev, diffRecord(prev, next, 24) as string)).toEqual(JSON.parse(JSON.stringify(next)));
    });

    it('is an empty patch when nothing changed', () => {
      const prev = aorRecord();
      expect(diffRecord(prev, { ...prev }, 24)).toBe('[]');
    });

    it('adds a property that was absent and escapes names and values as JSON', () => {
      const prev = { aor: 'a', note: 'x' } as Record<string, unknown>;
      const next = { aor: 'a', note: 'say "hi"\n', 'odd"key': 1 };
      const patch = diffRecord(prev, next, 24) as string;
      expect(replayed(prev, patch)).toEqual(next);
    });

    it.each([
      ['a property removed', { aor: 'a', userAgent: 'x' }, { aor: 'a' }],
      ['a property set to undefined', { aor: 'a', userAgent: 'x' }, { aor: 'a', userAgent: undefined }],
      ['an array of another length', { aor: 'a', bindings: [1] }, { aor: 'a', bindings: [1, 2] }],
      ['an object becoming an array', { aor: 'a', v: { x: 1 } }, { aor: 'a', v: [1] }],
      ['a primitive becoming an object', { aor: 'a', v: 1 }, { aor: 'a', v: { x: 1 } }],
      ['a "__proto__" property', JSON.parse('{"aor":"a","__proto__":1}') as object, JSON.parse('{"aor":"a","__proto__":2}') as object],
      ['a "__proto__" property removed', JSON.parse('{"aor":"a","v":{"__proto__":0}}') as object, { aor: 'a', v: {} }],
      ['a "toString" property removed (next inherits one)', { aor: 'a', v: { toString: 1 } }, { aor: 'a', v: {} }],
      ['a "constructor" property removed (next inherits one)', { aor: 'a', v: { constructor: 'x' } }, { aor: 'a', v: {} }],
    ])('leaves %s to a whole-record line (undefined)', (_name, prev, next) => {
      expect(diffRecord(prev, next, 24)).toBeUndefined();
    });

    it('gives up beyond maxOps changed values', () => {
      const prev = { aor: 'a', v: [1, 2, 3] };
      const next = { aor: 'a', v: [4, 5, 6] };
      expect(diffRecord(prev, next, 2)).toBeUndefined();
      expect(diffRecord(prev, next, 3)).toBeDefined();
    });
  });

  describe('Function: applyPatch', () => {
    it('rejects a path through a value that is not an object or array (a damaged journal)', () => {
      expect(() => applyPatch({ aor: 'a', v: 1 }, [[['v', 'x'], 2]])).toThrow(PatchMismatchError);
      expect(() => applyPatch({ aor: 'a' }, [[[], 2]])).toThrow(PatchMismatchError);
    });
  });
});
