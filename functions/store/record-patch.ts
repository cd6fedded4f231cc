/**
 * Patches between two versions of a record, for the embedded store's journal: an absorbed refresh
 * changes a few numbers of one binding, so journaling those (~150 bytes) instead of the whole record
 * (~1 KB of JSON.stringify per put) is most of a put's cost saved (docs/store.md).
 *
 * Records are plain JSON data (what JSON.parse gives back) and immutable: the core builds a new record
 * that shares every unchanged part with the previous one, so most comparisons are one `===`.
 *
 * A patch is JSON text `[[path, value], …]`, written to a {@link JsonTextSink}: each op sets the value at `path` (property names and array
 * indexes) in the previous version. Only changes that keep the record's structure are patches: a
 * property removed, an array of another length or a value switching between array, object and
 * primitive make {@link diffRecord} answer `undefined`, and the caller journals the whole record.
 */

/** One op of a parsed patch: the path to set and its new value. */
export type PatchOp = [path: Array<string | number>, value: unknown];

/** Raised by {@link applyPatch} when a path does not fit the record (a damaged journal). */
export class PatchMismatchError extends Error {
  constructor(readonly path: Array<string | number>) {
    super(`patch path ${JSON.stringify(path)} does not fit the record`);
    this.name = 'PatchMismatchError';
  }
}

/**
 * Where {@link writePatch} writes a patch's JSON text. The journal writes it straight into its write
 * buffer, so an absorbed refresh builds no string for its patch (diffRecord's own sink builds one).
 */
export interface JsonTextSink {
  /** Appends JSON text as it is (punctuation, cached property-name literals). */
  text(json: string): void;
  /** Appends `value` as JSON.stringify writes a number (non-finite: `null`). */
  number(value: number): void;
  /** Appends `value` as a JSON string literal, as JSON.stringify writes it. */
  string(value: string): void;
}

/** Diff state: the path walked so far and the ops written. */
interface DiffState {
  path: Array<string | number>;
  sink: JsonTextSink;
  count: number;
  maxOps: number;
}

/**
 * Writes the patch turning `prev` into `next` to `sink` as JSON text (`[op,…]`). Answers false when
 * the change is structural or takes more than `maxOps` ops (then the whole record is cheaper and
 * clearer to journal): `sink` then holds a partial patch, which the caller discards.
 */
export function writePatch(prev: object, next: object, maxOps: number, sink: JsonTextSink): boolean {
  sink.text('[');
  const state: DiffState = { path: [], sink, count: 0, maxOps };
  if (!diffObject(prev as Record<string, unknown>, next as Record<string, unknown>, state)) return false;
  sink.text(']');
  return true;
}

/** A sink that builds the JSON text as a string. */
class StringSink implements JsonTextSink {
  json = '';

  text(json: string): void {
    this.json += json;
  }

  number(value: number): void {
    this.json += Number.isFinite(value) ? String(value) : 'null';
  }

  string(value: string): void {
    this.json += JSON.stringify(value);
  }
}

/**
 * The patch turning `prev` into `next` as JSON text, or `undefined` when the change is structural or
 * takes more than `maxOps` ops ({@link writePatch} into a string).
 */
export function diffRecord(prev: object, next: object, maxOps: number): string | undefined {
  const sink = new StringSink();
  return writePatch(prev, next, maxOps, sink) ? sink.json : undefined;
}

function diffValue(prev: unknown, next: unknown, state: DiffState): boolean {
  if (prev === next) return true;
  const nextIsObject = typeof next === 'object' && next !== null;
  const prevIsObject = typeof prev === 'object' && prev !== null;
  if (nextIsObject !== prevIsObject) return nextIsObject ? false : setOp(next, state);
  if (!nextIsObject) return setOp(next, state);
  const nextIsArray = Array.isArray(next);
  if (nextIsArray !== Array.isArray(prev)) return false;
  return nextIsArray ? diffArray(prev as unknown[], next as unknown[], state) : diffObject(prev as Record<string, unknown>, next as Record<string, unknown>, state);
}

function diffArray(prev: unknown[], next: unknown[], state: DiffState): boolean {
  if (prev.length !== next.length) return false;
  for (let i = 0; i < next.length; i += 1) {
    if (prev[i] === next[i]) continue;
    state.path.push(i);
    const ok = diffValue(prev[i], next[i], state);
    state.path.pop();
    if (!ok) return false;
  }
  return true;
}

function diffObject(prev: Record<string, unknown>, next: Record<string, unknown>, state: DiffState): boolean {
  for (const key in next) {
    const nextValue = next[key];
    const prevValue = prev[key];
    if (prevValue === nextValue) continue;
    // JSON drops undefined properties: becoming undefined is a removal, which a set cannot express.
    if (nextValue === undefined) return false;
    // A "__proto__" key would be a prototype assignment when the patch is applied, not a property.
    if (key === '__proto__') return false;
    state.path.push(key);
    const ok = diffValue(prevValue, nextValue, state);
    state.path.pop();
    if (!ok) return false;
  }
  // A removed property. `next[key]` also finds what `next` inherits from Object.prototype (a
  // "toString" or "constructor" own in prev but gone from next reads as a function, "__proto__" as the
  // prototype): JSON data is never a function, so those count as removed too (the whole record).
  for (const key in prev) {
    if (prev[key] === undefined) continue;
    const nextValue = next[key];
    if (nextValue === undefined || typeof nextValue === 'function' || key === '__proto__') return false;
  }
  return true;
}

/** JSON of property names seen in paths: a record type has few, and each op repeats them (bounded). */
const nameJson = new Map<string, string>();
const NAME_JSON_LIMIT = 1024;

function jsonOfName(name: string): string {
  let json = nameJson.get(name);
  if (json === undefined) {
    json = JSON.stringify(name);
    if (nameJson.size < NAME_JSON_LIMIT) nameJson.set(name, json);
  }
  return json;
}

/** Writes the op `[[path…],value]` for a changed primitive `value`. */
function setOp(value: unknown, state: DiffState): boolean {
  if (state.count === state.maxOps) return false;
  // Numbers and strings (the values an absorbed refresh changes: times, CSeq, Call-ID) go to the sink
  // as they are, without a JSON.stringify call and its string.
  const json = typeof value === 'number' || typeof value === 'string' ? '' : JSON.stringify(value);
  // undefined, functions and symbols have no JSON form: not plain data, journal the whole record.
  if (json === undefined) return false;
  const sink = state.sink;
  sink.text(state.count === 0 ? '[[' : ',[[');
  const path = state.path;
  for (let i = 0; i < path.length; i += 1) {
    if (i > 0) sink.text(',');
    const step = path[i];
    if (typeof step === 'number') sink.number(step);
    else sink.text(jsonOfName(step));
  }
  sink.text('],');
  if (typeof value === 'number') sink.number(value);
  else if (typeof value === 'string') sink.string(value);
  else sink.text(json);
  sink.text(']');
  state.count += 1;
  return true;
}

/**
 * Applies parsed patch `ops` to `record` in place (start-up replay only: the record is the store's own,
 * parsed from the journal and not yet handed out).
 *
 * @throws PatchMismatchError when a path leads through something that is not an object or array
 */
export function applyPatch(record: object, ops: readonly PatchOp[]): void {
  for (const [path, value] of ops) {
    if (path.length === 0) throw new PatchMismatchError(path);
    let target = record as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i += 1) {
      const child = target[path[i] as string | number];
      if (typeof child !== 'object' || child === null) throw new PatchMismatchError(path);
      target = child as Record<string | number, unknown>;
    }
    target[path[path.length - 1] as string | number] = value;
  }
}
