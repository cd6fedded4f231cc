import { shardOf } from '../../../functions/store/binding-store';
import { DueIndex } from '../../../functions/store/due-index';

describe('Class: DueIndex', () => {
  it('finds due AoRs earliest first without removing them', () => {
    // Prepare
    const index = new DueIndex(1);
    index.set('c@x', 30);
    index.set('a@x', 10);
    index.set('b@x', 20);

    // Act
    const first = index.findDue(0, 25, 10);
    const again = index.findDue(0, 25, 10);

    // Assess
    expect(first).toEqual(['a@x', 'b@x']);
    expect(again).toEqual(['a@x', 'b@x']);
  });

  it('ignores stale entries after a due time moved or was cleared, and lists an AoR once', () => {
    // Prepare
    const index = new DueIndex(1);
    index.set('a@x', 10);
    index.set('a@x', 50);
    index.set('a@x', 10);
    index.set('b@x', 5);
    index.set('b@x', undefined);

    // Act
    const due = index.findDue(0, 20, 10);

    // Assess
    expect(due).toEqual(['a@x']);
    expect(index.size).toBe(1);
  });

  it('a due time moved later adds no heap entry, and the AoR is found at its new time only', () => {
    // Prepare
    const index = new DueIndex(1);
    index.set('a@x', 10);
    index.set('b@x', 15);

    // Act
    index.set('a@x', 30);
    const entries = index.entryCount;
    const atTwenty = index.findDue(0, 20, 10);
    const atThirty = index.findDue(0, 30, 10);

    // Assess
    expect(entries).toBe(2);
    expect(atTwenty).toEqual(['b@x']);
    expect(atThirty).toEqual(['b@x', 'a@x']);
  });

  it('files an AoR in the shard its caller passes, the same as when it hashes the AoR itself', () => {
    // Prepare
    const hashed = new DueIndex(8);
    const given = new DueIndex(8);
    const aors = Array.from({ length: 40 }, (_, i) => `user${i}@example.com`);

    // Act
    aors.forEach((aor, i) => {
      hashed.set(aor, i);
      given.set(aor, i, shardOf(aor, 8));
    });
    given.set(aors[0], undefined, shardOf(aors[0], 8));
    hashed.set(aors[0], undefined);

    // Assess
    for (let shard = 0; shard < 8; shard += 1) expect(given.findDue(shard, 100, 100)).toEqual(hashed.findDue(shard, 100, 100));
    expect(given.size).toBe(39);
  });

  it('keeps shards apart', () => {
    // Prepare
    const index = new DueIndex(4);
    const aors = Array.from({ length: 20 }, (_, i) => `u${i}@x`);
    for (const aor of aors) index.set(aor, 1);

    // Act
    const perShard = [0, 1, 2, 3].map((shard) => index.findDue(shard, 1, 100));

    // Assess
    perShard.forEach((found, shard) => expect(found.sort()).toEqual(aors.filter((a) => shardOf(a, 4) === shard).sort()));
  });

  it('bounds memory: moving due times of a few AoRs many times does not grow the heap without limit', () => {
    // Prepare
    const index = new DueIndex(1);

    // Act
    for (let t = 0; t < 100_000; t += 1) index.set(`a${t % 10}@x`, 1_000_000 + t);

    // Assess
    expect(index.size).toBe(10);
    expect(index.entryCount).toBeLessThanOrEqual(2 * 10 + 1024 + 1);
    expect(index.findDue(0, 1_000_000 + 99_990, 100)).toEqual(['a0@x']);
  });
});
