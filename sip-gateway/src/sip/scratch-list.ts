/**
 * Parameter lists read into a scratch array and copied out at exact size (header and URI parameters).
 *
 * An array grown by push() reserves 17 slots at the first push; the exact-size copy of the 1–3 usual
 * parameters costs a third of that (~60 B per parse, six parses per REGISTER). Parsing never re-enters
 * itself, so one scratch array per parser serves every call; it holds the last parse's entries (and so the
 * text their values were cut from) until the next parse.
 */
export class ScratchList<T> {
  private readonly items: T[] = [];
  /**
   * The result of a parse that found nothing, shared by every such parse. Frozen: a caller that tried to
   * modify a parse result would throw here instead of changing every later result.
   */
  private readonly empty: T[] = Object.freeze([]) as unknown as T[];

  /** Puts `item` at `index` (the number of items read so far in this parse). */
  set(index: number, item: T): void {
    this.items[index] = item;
  }

  /**
   * The first `count` items in a new array of that size (the shared frozen empty list for 0); the usual
   * counts as array literals, which are allocated inline (slice() is a builtin call, ~70 ns more per parse).
   */
  copy(count: number): T[] {
    const s = this.items;
    switch (count) {
      case 0:
        return this.empty;
      case 1:
        return [s[0]];
      case 2:
        return [s[0], s[1]];
      case 3:
        return [s[0], s[1], s[2]];
      default:
        return s.slice(0, count);
    }
  }
}
