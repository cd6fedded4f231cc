/**
 * Append-only JSON-lines file with group commit, for the embedded store.
 *
 * Lines appended during one turn of the event loop are written by one `writeSync` in the check phase
 * (setImmediate) and their promises resolve after it: an acknowledged line is in the OS page cache,
 * so it survives `kill -9` of the process. Surviving power loss needs `fsync: true` (an fsync per
 * group). A failed write rejects its group and every later append (fail-stop: the caller's memory
 * may be ahead of the file, so nothing more may be acknowledged).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { JsonTextSink } from './record-patch';

/** Result of reading a journal. */
export interface JournalContents {
  /** Complete, parsable lines in order. */
  entries: unknown[];
  /** True when the last line was cut short or unparsable (a crash mid-write) and was skipped. */
  skippedTail: boolean;
}

/** Raised when a line other than the last cannot be parsed: the file is damaged, not merely cut. */
export class JournalCorruptError extends Error {
  constructor(
    readonly path: string,
    readonly lineNumber: number,
  ) {
    super(`${path}: line ${lineNumber} is corrupt`);
    this.name = 'JournalCorruptError';
  }
}

/** Reads every entry of the journal at `path` (missing file: none). */
export function readJournal(path: string): JournalContents {
  if (!fs.existsSync(path)) return { entries: [], skippedTail: false };
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  // After the final newline comes "" (clean end) or the start of a line cut by a crash.
  const tail = lines.pop() ?? '';
  let skippedTail = tail !== '';
  const entries: unknown[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i] === '') continue;
    try {
      entries.push(JSON.parse(lines[i]));
    } catch {
      if (i === lines.length - 1 && !skippedTail) {
        skippedTail = true;
        continue;
      }
      throw new JournalCorruptError(path, i + 1);
    }
  }
  return { entries, skippedTail };
}

/**
 * Atomically replaces the file at `path` by `lines` (write a temporary file, fsync, rename, fsync
 * the directory), so a crash leaves either the old or the new file. Synchronous: for start-up only.
 *
 * @returns the bytes written
 */
export function rewriteJournal(path: string, lines: Iterable<string>): number {
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let bytes = 0;
  try {
    let chunk: string[] = [];
    let size = 0;
    for (const line of lines) {
      chunk.push(line);
      size += line.length;
      if (size > 1 << 20) {
        bytes += fs.writeSync(fd, chunk.join(''));
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length > 0) bytes += fs.writeSync(fd, chunk.join(''));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  syncDirectory(path);
  return bytes;
}

/**
 * Writes `path` atomically without holding the event loop: `nextChunk` is called for the next piece
 * of text (undefined: done) and each piece is written with async fs, so other callbacks run between
 * pieces; then fsync, rename over `path` and fsync the directory. `shouldAbort` is checked after each
 * asynchronous step; on abort or failure the temporary file is removed and `path` is left untouched.
 *
 * @returns the bytes written when `path` was replaced, undefined when aborted
 */
export async function writeFileAtomically(path: string, tmp: string, nextChunk: () => string | undefined, shouldAbort: () => boolean): Promise<number | undefined> {
  const file = await fs.promises.open(tmp, 'w');
  let replaced = false;
  let bytes = 0;
  try {
    for (let chunk = nextChunk(); chunk !== undefined; chunk = nextChunk()) {
      bytes += (await file.write(chunk)).bytesWritten;
      if (shouldAbort()) return undefined;
    }
    await file.sync();
    await file.close();
    if (shouldAbort()) return undefined;
    fs.renameSync(tmp, path);
    replaced = true;
  } finally {
    if (!replaced) {
      await file.close().catch(() => undefined);
      await fs.promises.rm(tmp, { force: true });
    }
  }
  const dir = await fs.promises.open(nodePath.dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return bytes;
}

/** fsyncs the directory holding `filePath`, so a rename or a new file in it survives power loss. */
export function syncDirectory(filePath: string): void {
  const dir = fs.openSync(nodePath.dirname(filePath), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

/** The file-system calls a {@link JournalWriter} writes with (injectable for fault-injection tests). */
export interface JournalIo {
  /** Writes `data` (or a first part of it) at the end of the file; returns the bytes written. */
  writeSync(fd: number, data: Uint8Array): number;
  fsyncSync(fd: number): void;
}

const nodeIo: JournalIo = { writeSync: (fd, data) => fs.writeSync(fd, data), fsyncSync: (fd) => fs.fsyncSync(fd) };

/** Size of a journal writer's group buffer (a group of ~60 put lines fits). */
const INITIAL_BUFFER_BYTES = 64 * 1024;
/** A group buffer grown past this size by a burst is replaced by a fresh one after its write. */
const MAX_KEPT_BUFFER_BYTES = 1024 * 1024;

/** The lines appended in one event-loop turn: they are written together and share one promise. */
interface Group {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Appends in the group (for failure counting). */
  calls: number;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, calls: 0 };
}

/** {@link JournalWriter.number} writes integers from 10^8 up as two groups of at most 8 digits (int32 arithmetic). */
const DIGIT_GROUP = 100_000_000;
/** Longest string {@link JournalWriter.text} copies code unit by code unit; longer ones go to Buffer#write. */
const SHORT_TEXT = 48;

/**
 * Appends lines to a journal file with group commit. The appends of one turn share one promise (one
 * allocation per group instead of a promise, executor closure and waiter object per append).
 *
 * A line is appended whole ({@link JournalWriter.append}) or written in pieces straight into the group
 * buffer ({@link JournalWriter.startLine}, then the {@link JsonTextSink} methods, then
 * {@link JournalWriter.endLine} or {@link JournalWriter.discardLine}): an absorbed refresh's patch line
 * is ~25 pieces, and writing them so builds no string for the line (nor for its numbers), where the
 * concatenated line cost ~1 KB of short-lived strings per put.
 */
export class JournalWriter implements JsonTextSink {
  private fd: number;
  /**
   * The group's lines, UTF-8 encoded as they are appended: the flush writes this buffer as it is,
   * where joining the lines into one string and encoding that allocated a copy of the group twice.
   * Reused by every group; grown for a larger group and dropped after it (past
   * {@link MAX_KEPT_BUFFER_BYTES}), so a burst does not pin memory.
   */
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  private size = 0;
  private group: Group | undefined;
  private failure: Error | undefined;
  /** Bytes written since the file was opened or sealed (the compaction threshold compares them). */
  bytesWritten = 0;

  /**
   * @param path the file, created if missing
   * @param fsync fsync after each group (survives power loss; much slower)
   * @param afterFlush called after each successful group write (e.g. to compact)
   * @param io the write and fsync calls
   * @param failureOf the error a failed group (of `calls` appends) rejects with, given the write's error
   */
  constructor(
    readonly path: string,
    private readonly fsync: boolean,
    private readonly afterFlush: () => void = () => undefined,
    private readonly io: JournalIo = nodeIo,
    private readonly failureOf: (cause: Error, calls: number) => Error = (cause) => cause,
  ) {
    this.fd = fs.openSync(path, 'a');
  }

  /** Appends `line` (ending in "\n"); resolves once it is written (a promise shared by the turn's appends). */
  append(line: string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failureOf(this.failure, 1));
    this.writeUtf8(line);
    return this.endLine();
  }

  /**
   * Starts a line written in pieces; returns its start for {@link discardLine}. The pieces and
   * {@link endLine} (or {@link discardLine}) must follow in the same synchronous run.
   */
  startLine(): number {
    return this.size;
  }

  /** Drops the line in progress that began at `start` (e.g. a patch that turned out structural). */
  discardLine(start: number): void {
    this.size = start;
  }

  /** Appends JSON text to the line in progress. */
  text(json: string): void {
    const length = json.length;
    if (length > SHORT_TEXT) {
      this.writeUtf8(json);
      return;
    }
    if (this.size + 3 * length > this.buffer.length) this.grow(3 * length);
    const buffer = this.buffer;
    let at = this.size;
    for (let i = 0; i < length; i += 1) {
      const unit = json.charCodeAt(i);
      // Not ASCII: let Buffer#write encode the whole piece as UTF-8 over what was copied.
      if (unit >= 0x80) {
        this.writeUtf8(json);
        return;
      }
      buffer[at] = unit;
      at += 1;
    }
    this.size = at;
  }

  /** Appends `value` to the line in progress as JSON.stringify writes a number. */
  number(value: number): void {
    // Digits written in place for what journals hold most (times, versions, CSeq: safe integers ≥ 0);
    // anything else (negative, fraction, exponent, non-finite) as JSON.stringify writes it.
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Math.floor(value) === value)) {
      this.text(Number.isFinite(value) ? String(value) : 'null');
      return;
    }
    if (value < DIGIT_GROUP) {
      this.digits(value, 1);
      return;
    }
    // Two int32 halves: digit arithmetic on doubles (times and versions exceed 2^31) costs a floating
    // modulo per digit, ~4× slower. The floor is exact: below 2^53 the quotient is below 2^27, where a
    // double resolves 1.5e-8, finer than the 1e-8 a fraction of the quotient can lack to reach 1.
    const high = Math.floor(value / DIGIT_GROUP);
    this.digits(high, 1);
    this.digits(value - high * DIGIT_GROUP, 8);
  }

  /** Writes `value` (an integer in 0 ≤ value < 10^8) in decimal, zero-padded to `width` digits. */
  private digits(value: number, width: number): void {
    let count = 1;
    for (let power = 10; power <= value; power *= 10) count += 1;
    if (count < width) count = width;
    if (this.size + count > this.buffer.length) this.grow(count);
    const buffer = this.buffer;
    let at = this.size + count;
    this.size = at;
    let rest = value | 0;
    for (let i = 0; i < count; i += 1) {
      const quotient = (rest / 10) | 0;
      at -= 1;
      buffer[at] = 0x30 + rest - quotient * 10;
      rest = quotient;
    }
  }

  /** Appends `value` to the line in progress as a JSON string literal. */
  string(value: string): void {
    const length = value.length;
    if (length > SHORT_TEXT) {
      this.writeUtf8(JSON.stringify(value));
      return;
    }
    if (this.size + length + 2 > this.buffer.length) this.grow(length + 2);
    const buffer = this.buffer;
    let at = this.size;
    buffer[at] = 0x22;
    at += 1;
    for (let i = 0; i < length; i += 1) {
      const unit = value.charCodeAt(i);
      // Control characters, quote, backslash or non-ASCII: JSON.stringify's escaping, over what was copied.
      if (unit < 0x20 || unit === 0x22 || unit === 0x5c || unit >= 0x80) {
        this.writeUtf8(JSON.stringify(value));
        return;
      }
      buffer[at] = unit;
      at += 1;
    }
    buffer[at] = 0x22;
    this.size = at + 1;
  }

  /** Ends the line in progress (its text ends in "\n"); resolves once it is written, like {@link append}. */
  endLine(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failureOf(this.failure, 1));
    let group = this.group;
    if (group === undefined) {
      group = this.group = newGroup();
      setImmediate(() => this.flush());
    }
    group.calls += 1;
    return group.promise;
  }

  /** The error that stopped this writer, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Writes every pending line now. */
  flush(): void {
    const group = this.group;
    if (group === undefined) return;
    const size = this.size;
    this.group = undefined;
    this.size = 0;
    const buffer = this.buffer;
    if (buffer.length > MAX_KEPT_BUFFER_BYTES) this.buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
    try {
      if (this.failure !== undefined) throw this.failure;
      for (let written = 0; written < size; ) {
        const count = this.io.writeSync(this.fd, buffer.subarray(written, size));
        if (!(count > 0)) throw new Error(`${this.path}: write returned ${count}`);
        written += count;
      }
      if (this.fsync) this.io.fsyncSync(this.fd);
    } catch (err) {
      this.failure ??= err as Error;
      group.reject(this.failureOf(this.failure, group.calls));
      return;
    }
    this.bytesWritten += size;
    group.resolve();
    this.afterFlush();
  }

  /** Appends `text` UTF-8 encoded. */
  private writeUtf8(text: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    if (this.size + 3 * text.length > this.buffer.length) this.grow(3 * text.length);
    this.size += this.buffer.write(text, this.size, 'utf8');
  }

  /** Makes room for `bytes` more bytes in the group buffer, keeping what it holds. */
  private grow(bytes: number): void {
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.size + bytes));
    this.buffer.copy(grown, 0, 0, this.size);
    this.buffer = grown;
  }

  /**
   * Seals the file: flushes pending lines, renames it to `sealedPath` and continues in a new, empty
   * file at `path` (so a compaction can snapshot while appends go on). Synchronous, a few system calls.
   */
  seal(sealedPath: string): void {
    this.flush();
    if (this.failure !== undefined) throw this.failure;
    fs.renameSync(this.path, sealedPath);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.path, 'a');
    if (this.fsync) syncDirectory(this.path);
    this.bytesWritten = 0;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
    this.failure ??= new Error(`${this.path} is closed`);
  }
}
