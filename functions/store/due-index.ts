/**
 * In-memory due-time index of the embedded store: per shard a min-heap of (dueAtMs, aor) with lazy
 * deletion, so {@link DueIndex.findDue} costs O(k log n) for k results instead of a scan.
 *
 * Invariant: an AoR with a due time d has a heap entry with dueAtMs ≤ d. A due time moved earlier
 * (or set for the first time) pushes an entry; a due time moved later pushes none (the common case:
 * an absorbed refresh moves the expiry it is due for later): its old, earlier entry stands in until it
 * reaches the top, where it is re-pushed at the current due time. Entries of cleared or earlier-moved
 * due times are dropped when they reach the top. A heap is rebuilt from the current due times when
 * stale entries outnumber live ones, which bounds memory.
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
    const previous = current.get(aor);
    if (previous === dueAtMs) return;
    if (dueAtMs === undefined) {
      current.delete(aor);
      return;
    }
    current.set(aor, dueAtMs);
    // Moved later: the entry at `previous` still satisfies the invariant (saves an entry, a sift and
    // the rebuilds they would cause, ~0.4 µs per absorbed refresh).
    if (previous !== undefined && previous < dueAtMs) return;
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
      const dueAtMs = current.get(entry.aor);
      if (dueAtMs === undefined || dueAtMs < entry.dueAtMs) continue; // cleared, or an earlier entry exists
      if (dueAtMs > entry.dueAtMs) {
        // Stood in for a due time moved later: re-pushed at it, so it is found (or not) in order.
        entry.dueAtMs = dueAtMs;
        heap.push(entry);
        siftUp(heap, heap.length - 1);
        continue;
      }
      // Current: listed once (an AoR may have several entries at its due time).
      if (!seen.has(entry.aor)) {
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
