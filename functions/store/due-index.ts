/**
 * In-memory due-time index of the embedded store: per shard a min-heap of (dueAtMs, aor) with lazy
 * deletion, so {@link DueIndex.findDue} costs O(k log n) for k results instead of a scan.
 *
 * A changed or cleared due time leaves its old heap entry behind; entries are checked against the
 * current due time when they reach the top and dropped when stale. A heap is rebuilt from the
 * current due times when stale entries outnumber live ones, which bounds memory.
 */
import { shardOf } from './binding-store';

interface DueEntry {
  dueAtMs: number;
  aor: string;
}

/** Slack before a heap is rebuilt: rebuild when its size exceeds 2 × live entries + this. */
const REBUILD_SLACK = 1024;

function siftUp(heap: DueEntry[], start: number): void {
  let i = start;
  const entry = heap[i];
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent].dueAtMs <= entry.dueAtMs) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = entry;
}

function siftDown(heap: DueEntry[], start: number): void {
  let i = start;
  const entry = heap[i];
  const n = heap.length;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    const right = left + 1;
    const child = right < n && heap[right].dueAtMs < heap[left].dueAtMs ? right : left;
    if (heap[child].dueAtMs >= entry.dueAtMs) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = entry;
}

function pop(heap: DueEntry[]): DueEntry | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0 && last !== undefined) {
    heap[0] = last;
    siftDown(heap, 0);
  }
  return top;
}

/** Due times of AoRs, grouped in `shardCount` shards by {@link shardOf}. */
export class DueIndex {
  /** Per shard: the current due time of each AoR in it. */
  private readonly dueByShard: Map<string, number>[];
  private readonly heaps: DueEntry[][];

  constructor(private readonly shardCount: number) {
    this.dueByShard = Array.from({ length: shardCount }, () => new Map<string, number>());
    this.heaps = Array.from({ length: shardCount }, () => []);
  }

  /**
   * Sets (or, with undefined, clears) the due time of `aor`.
   *
   * @param shard `shardOf(aor, shardCount)`, when the caller keeps it (saves hashing the AoR per call)
   */
  set(aor: string, dueAtMs: number | undefined, shard: number = shardOf(aor, this.shardCount)): void {
    const current = this.dueByShard[shard];
    if (current.get(aor) === dueAtMs) return;
    if (dueAtMs === undefined) {
      current.delete(aor);
      return;
    }
    current.set(aor, dueAtMs);
    const heap = this.heaps[shard];
    heap.push({ dueAtMs, aor });
    siftUp(heap, heap.length - 1);
    if (heap.length > 2 * current.size + REBUILD_SLACK) this.rebuild(shard);
  }

  /** AoRs of `shard` with `dueAtMs <= nowMs`, earliest first, at most `limit`. Nothing is removed. */
  findDue(shard: number, nowMs: number, limit: number): string[] {
    const heap = this.heaps[shard];
    const current = this.dueByShard[shard];
    if (heap === undefined || current === undefined) return [];
    const found: DueEntry[] = [];
    const seen = new Set<string>();
    while (found.length < limit && heap.length > 0 && heap[0].dueAtMs <= nowMs) {
      const entry = pop(heap)!;
      // Lazy deletion: keep the entry only if it is still the AoR's current due time, once.
      if (current.get(entry.aor) === entry.dueAtMs && !seen.has(entry.aor)) {
        seen.add(entry.aor);
        found.push(entry);
      }
    }
    for (const entry of found) {
      heap.push(entry);
      siftUp(heap, heap.length - 1);
    }
    return found.map((e) => e.aor);
  }

  /** Number of AoRs with a due time. */
  get size(): number {
    return this.dueByShard.reduce((sum, m) => sum + m.size, 0);
  }

  /** Number of heap entries, stale ones included (bounded by rebuilds). */
  get entryCount(): number {
    return this.heaps.reduce((sum, h) => sum + h.length, 0);
  }

  private rebuild(shard: number): void {
    const heap: DueEntry[] = [];
    for (const [aor, dueAtMs] of this.dueByShard[shard]) heap.push({ dueAtMs, aor });
    // A sorted array is a valid min-heap.
    heap.sort((a, b) => a.dueAtMs - b.dueAtMs);
    this.heaps[shard] = heap;
  }
}
