/**
 * Shared constant spellings of the words a parser meets in nearly every message (parameter names, common
 * values): a short slice of the message text is a fresh string (~24–32 B); the constant costs nothing and
 * compares by pointer.
 */
export class CommonWords {
  /** The words by length (index). */
  private readonly byLength: string[][] = [];

  constructor(words: readonly string[]) {
    for (const word of words) (this.byLength[word.length] ??= []).push(word);
  }

  /** The constant spelling of the word written at `text[start, end)` (same case), or undefined. */
  at(text: string, start: number, end: number): string | undefined {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return undefined;
    for (const word of candidates) if (text.startsWith(word, start)) return word;
    return undefined;
  }
}
