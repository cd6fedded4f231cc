import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JournalWriter } from '../../../functions/store/journal-file';

describe('Class: JournalWriter', () => {
  let dir: string;
  let file: string;
  let writer: JournalWriter;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-writer-'));
    file = path.join(dir, 'journal.jsonl');
    writer = new JournalWriter(file, false);
  });

  afterEach(() => {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes one line of `values` through the sink methods and returns what reached the file. */
  async function lineOf(write: (w: JournalWriter) => void): Promise<string> {
    writer.startLine();
    write(writer);
    writer.text('\n');
    await writer.endLine();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    return lines[lines.length - 2];
  }

  describe('Method: number', () => {
    it.each([0, -0, 7, 10, 99, 100, 99_999_999, 100_000_000, 100_000_001, 2 ** 31, 1_700_000_000_123, 1_795_699_361_795_001, 899_999_999_999_999, Number.MAX_SAFE_INTEGER, 2 ** 53, -5, 0.1, 1e21, 1.5e-7, Number.NaN, Number.POSITIVE_INFINITY])(
      'writes %p as JSON.stringify does',
      async (value) => {
        expect(await lineOf((w) => w.number(value))).toBe(JSON.stringify(value));
      },
    );

    it('writes every safe integer as JSON.stringify does (a sample across magnitudes, both halves)', async () => {
      const values = Array.from({ length: 2_000 }, (_, i) => Math.floor(Number.MAX_SAFE_INTEGER / 1.02 ** i) - (i % 3));
      values.push(...Array.from({ length: 200 }, (_, i) => 10 ** Math.floor(i / 12) * 1e8 - (i % 12)));
      const line = await lineOf((w) => values.forEach((v, i) => (i === 0 ? w.number(v) : (w.text(','), w.number(v)))));
      expect(line).toBe(values.map((v) => JSON.stringify(v)).join(','));
    });
  });

  describe('Method: string', () => {
    it.each(['', 'sip:alice@example.com', 'say "hi"', 'new\nline', 'tab\there', 'ünïcode', '😀 pair', 'lone \ud800 surrogate', 'x'.repeat(200), `${'y'.repeat(100)}"`])(
      'writes %p as JSON.stringify does, UTF-8 encoded',
      async (value) => {
        expect(await lineOf((w) => w.string(value))).toBe(JSON.stringify(value));
      },
    );
  });

  describe('Method: text', () => {
    it('writes ASCII and non-ASCII pieces, short and long, UTF-8 encoded', async () => {
      const pieces = ['{"a":', '"ü"', ',"b":', `"${'z'.repeat(100)}"`, '}'];
      expect(await lineOf((w) => pieces.forEach((p) => w.text(p)))).toBe(pieces.join(''));
    });
  });

  describe('Method: discardLine', () => {
    it('drops the line in progress and keeps the lines before it in the group', async () => {
      // Prepare
      const kept = writer.append('{"kept":1}\n');

      // Act
      const start = writer.startLine();
      writer.text('{"dropped":');
      writer.number(2);
      writer.discardLine(start);
      writer.text('{"next":3}\n');
      await Promise.all([kept, writer.endLine()]);

      // Assess
      expect(fs.readFileSync(file, 'utf8')).toBe('{"kept":1}\n{"next":3}\n');
    });

    it('keeps a line written in pieces across a growth of the group buffer', async () => {
      // Prepare: more than the 64 KB initial buffer in one group.
      const big = 'b'.repeat(40_000);
      const first = writer.append(`${JSON.stringify({ big })}\n`);

      // Act
      writer.startLine();
      writer.text('{"big":');
      writer.string(big);
      writer.text(',"n":');
      writer.number(42);
      writer.text('}\n');
      await Promise.all([first, writer.endLine()]);

      // Assess
      expect(fs.readFileSync(file, 'utf8').split('\n').slice(0, 2).map((l) => JSON.parse(l) as unknown)).toEqual([{ big }, { big, n: 42 }]);
    });
  });
});
