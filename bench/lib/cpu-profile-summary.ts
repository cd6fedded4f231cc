/**
 * Self time per function from a V8 `.cpuprofile` (written by `node --cpu-prof`), with bundle
 * positions mapped back to TypeScript sources through the bundle's source map.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Monotonic clock, µs (CLOCK_MONOTONIC on Linux, the clock of `process.hrtime`). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of the sampled time. */
export interface HotSpot {
  functionName: string;
  /** `path:line` in the sources (1-based line), or the V8 category (`(garbage collector)`, `(program)`). */
  location: string;
  selfMs: number;
  /** Share of all sampled time, 0..1. */
  selfShare: number;
}

/** Self time summed per function and per source file. */
export interface ProfileSummary {
  /** Sampled time in the window, idle included. */
  totalMs: number;
  /** Sampled time the process was not idle; shares are of this. */
  busyMs: number;
  functions: HotSpot[];
  files: Array<{ file: string; selfMs: number; selfShare: number }>;
}

function loadSourceMap(url: string, cache: Map<string, SourceMap | undefined>): SourceMap | undefined {
  if (!cache.has(url)) {
    let map: SourceMap | undefined;
    if (url.startsWith('file://')) {
      const mapFile = `${fileURLToPath(url)}.map`;
      if (existsSync(mapFile)) map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
    }
    cache.set(url, map);
  }
  return cache.get(url);
}

function locate(frame: ProfileNode['callFrame'], root: string, cache: Map<string, SourceMap | undefined>): string {
  if (frame.url === '') return '';
  const map = loadSourceMap(frame.url, cache);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry) {
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource;
    return `${relative(root, source).replace(/^(\.\.\/)+/, '')}:${entry.originalLine + 1}`;
  }
  const file = frame.url.startsWith('file://') ? relative(root, fileURLToPath(frame.url)) : frame.url;
  return `${file}:${frame.lineNumber + 1}`;
}

/** A span of the monotonic clock, µs (`process.hrtime.bigint() / 1000n` in any process on the machine). */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

const IDLE = '(idle)';

/**
 * Summarizes `profileFile`: self time per function (largest first) and per source file, of the
 * samples inside `window` when given; paths are shown relative to `root`. Shares are of busy
 * (non-idle) time.
 */
export function summarizeCpuProfile(profileFile: string, root: string, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let atUs = profile.startTime;
  // timeDeltas[i] leads to sample i; timeDeltas[i + 1] is the time spent until the next one.
  for (let i = 0; i < profile.samples.length; i += 1) {
    atUs += profile.timeDeltas[i] ?? 0;
    if (window && (atUs < window.fromUs || atUs > window.toUs)) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const cache = new Map<string, SourceMap | undefined>();
  const functions = new Map<string, HotSpot>();
  const files = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const location = locate(frame, root, cache);
    const functionName = frame.functionName || '(anonymous)';
    totalUs += us;
    if (functionName === IDLE) {
      idleUs += us;
      continue;
    }
    const key = `${functionName}@${location}`;
    const spot = functions.get(key) ?? { functionName, location, selfMs: 0, selfShare: 0 };
    spot.selfMs += us / 1000;
    functions.set(key, spot);
    const file = location === '' ? functionName : location.replace(/:\d+$/, '');
    files.set(file, (files.get(file) ?? 0) + us / 1000);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const share = (ms: number): number => (busyMs > 0 ? ms / busyMs : 0);
  return {
    totalMs: totalUs / 1000,
    busyMs,
    functions: [...functions.values()].map((spot) => ({ ...spot, selfShare: share(spot.selfMs) })).sort((a, b) => b.selfMs - a.selfMs),
    files: [...files].map(([file, selfMs]) => ({ file, selfMs, selfShare: share(selfMs) })).sort((a, b) => b.selfMs - a.selfMs),
  };
}
