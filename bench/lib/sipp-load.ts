/**
 * Runs the storm scenario as one SIPp process at a fixed call rate and reads what it measured:
 * successful and failed calls, retransmissions (the `-trace_stat` CSV) and every response time
 * (the `-trace_rtt` CSV).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../../test/support/process';
import { STORM_CALL_ID_FORMAT } from './storm-csv';

/** The storm scenario (one REGISTER per call, values from the injection file). */
export const STORM_SCENARIO = join(__dirname, '..', 'scenarios', 'register-storm-uac.xml');

/** Options of {@link runSippLoad}. */
export interface SippLoadOptions {
  /** Gateway `host:port`. */
  remote: string;
  /** Injection file written by `writeInjectionFile`. */
  injectionFile: string;
  /** Local port SIPp binds on every source address. */
  localPort: number;
  /** SIPp's UDP control port and media port on 127.0.0.1 (`-cp`, `-mp`), free ones so runs never collide. */
  controlPort: number;
  mediaPort: number;
  calls: number;
  /** Calls started per second. */
  ratePerSec: number;
  /** SIP domain of the AoRs. */
  domain: string;
  expiresSec: number;
  /** Hard bound on the run; SIPp is killed after it. */
  timeoutMs: number;
}

/** What one SIPp run measured. */
export interface SippLoadResult {
  exitCode: number | null;
  successfulCalls: number;
  failedCalls: number;
  /** Requests SIPp re-sent because no response came within its retransmission timer. */
  retransmissions: number;
  /** Calls that ended on SIPp's recv timeout. */
  timeouts: number;
  /** Unexpected messages (non-200 finals, strays). */
  unexpectedMessages: number;
  /** First REGISTER → 200 OK, one value per successful call, in ms, ascending. */
  responseTimesMs: number[];
  /** Wall time from the first to the last response, in ms. */
  spanMs: number;
  /** SIPp's stdout/stderr tail, for failures. */
  output: string;
}

/** Reads the last row of a SIPp `-trace_stat` CSV into a name → value map. */
export function parseStatCsv(text: string): Map<string, string> {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  return new Map(header.map((name, index) => [name.trim(), (last[index] ?? '').trim()]));
}

/** Response times and first/last timestamps from a SIPp `-trace_rtt` CSV (`date_ms;rtt_ms;rtd_no`). */
export function parseRttCsv(text: string): { responseTimesMs: number[]; firstAtMs: number; lastAtMs: number } {
  const responseTimesMs: number[] = [];
  let firstAtMs = Number.POSITIVE_INFINITY;
  let lastAtMs = Number.NEGATIVE_INFINITY;
  for (const line of text.split('\n')) {
    const [date, rtt] = line.split(';');
    const atMs = Number.parseFloat(date ?? '');
    const rttMs = Number.parseFloat(rtt ?? '');
    if (!Number.isFinite(atMs) || !Number.isFinite(rttMs)) continue;
    responseTimesMs.push(rttMs);
    firstAtMs = Math.min(firstAtMs, atMs);
    lastAtMs = Math.max(lastAtMs, atMs);
  }
  responseTimesMs.sort((a, b) => a - b);
  return { responseTimesMs, firstAtMs, lastAtMs };
}

/** Nearest-rank percentile of ascending `sorted` (0 when empty). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1]!;
}

function counter(stats: Map<string, string>, name: string): number {
  const value = Number.parseInt(stats.get(name) ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

/** Runs SIPp to completion (bounded) and returns its counters and response times. */
export async function runSippLoad(options: SippLoadOptions): Promise<SippLoadResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'storm-sipp-'));
  const statFile = join(workDir, 'stat.csv');
  const timeoutSec = Math.max(2, Math.ceil(options.timeoutMs / 1000));
  const args = [
    options.remote,
    '-sf', STORM_SCENARIO,
    '-t', 'ui', '-ip_field', '0',
    '-inf', options.injectionFile,
    '-p', String(options.localPort), '-key', 'lport', String(options.localPort),
    '-cid_str', STORM_CALL_ID_FORMAT,
    '-cp', String(options.controlPort), '-mp', String(options.mediaPort), '-max_socket', '1000',
    '-m', String(options.calls),
    '-r', String(options.ratePerSec), '-rp', '1000',
    '-key', 'domain', options.domain,
    '-key', 'expires', String(options.expiresSec),
    '-nostdin',
    '-timeout', `${timeoutSec}s`, '-timeout_error',
    '-trace_stat', '-stf', statFile, '-fd', '1',
    '-trace_rtt', '-rtt_freq', '1000',
    '-trace_err', '-error_file', join(workDir, 'errors.log'),
  ];
  const sipp = startProcess({ command: 'sipp', args, cwd: workDir, label: 'sipp-storm' });
  try {
    const exit = await sipp.waitForExit(options.timeoutMs + 5000);
    const stats = parseStatCsv(existsSync(statFile) ? readFileSync(statFile, 'utf8') : '');
    const rttFile = readdirSync(workDir).find((name) => name.endsWith('_rtt.csv'));
    const rtt = parseRttCsv(rttFile ? readFileSync(join(workDir, rttFile), 'utf8') : '');
    const errors = existsSync(join(workDir, 'errors.log')) ? readFileSync(join(workDir, 'errors.log'), 'utf8') : '';
    return {
      exitCode: exit.code,
      successfulCalls: counter(stats, 'SuccessfulCall(C)'),
      failedCalls: counter(stats, 'FailedCall(C)'),
      retransmissions: counter(stats, 'Retransmissions(C)'),
      timeouts: counter(stats, 'FailedMaxUDPRetrans(C)') + counter(stats, 'FailedCallTimeout(C)') + counter(stats, 'FailedOutboundCongestion(C)'),
      unexpectedMessages: counter(stats, 'FailedUnexpectedMessage(C)'),
      responseTimesMs: rtt.responseTimesMs,
      spanMs: rtt.lastAtMs > rtt.firstAtMs ? rtt.lastAtMs - rtt.firstAtMs : 0,
      output: `${sipp.stdout.slice(-2000)}${sipp.stderr.slice(-2000)}${errors.slice(0, 2000)}`,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
