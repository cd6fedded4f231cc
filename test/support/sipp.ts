/**
 * Runs SIPp (Debian `sip-tester`) scenarios as bounded child processes and collects what they saw.
 */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, isAbsolute } from 'node:path';
import { startProcess } from './process';

/** Directory holding the SIPp XML scenarios shared by integration tests. */
export const SCENARIO_DIR = join(__dirname, '..', 'integration', 'scenarios');

/** Options for {@link runSipp}. */
export interface RunSippOptions {
  /** Scenario file: absolute path, or a name inside {@link SCENARIO_DIR} (`options-uac.xml`). */
  scenario: string;
  /** Where SIPp sends: `host:port`. */
  remote: string;
  /** Local address and port SIPp binds (`-i`, `-p`). */
  local: { host: string; port: number };
  /** `u1` one UDP socket, `t1` one TCP connection. */
  transport: 'u1' | 't1';
  /** Total calls before SIPp stops (`-m`); default 1. */
  calls?: number;
  /** Calls per second (`-r`); default 10. */
  rate?: number;
  /** Scenario variables (`-set name value`). */
  vars?: Record<string, string>;
  /** Keyword substitutions (`-key name value`), usable as [name] in messages. */
  keys?: Record<string, string>;
  /** Username part of the request URI (`-s`). */
  service?: string;
  /** Digest credentials for [authentication] (`-au`, `-ap`). */
  auth?: { username: string; password: string };
  /** Hard bound for the whole run; SIPp gets a global `-timeout` slightly below. Default 15000. */
  timeoutMs?: number;
  /** Extra raw arguments. */
  extraArgs?: string[];
}

/** Call counters SIPp reported at the end of a run. */
export interface SippStats {
  successfulCalls: number;
  failedCalls: number;
}

/** Outcome of a SIPp run. */
export interface SippResult {
  /** 0 all calls succeeded, 1 some failed, 97/99 see SIPp manual, negative fatal. */
  exitCode: number | null;
  stats: SippStats;
  /** Every message sent and received (`-trace_msg`). */
  messages: string;
  /** Unexpected messages (`-trace_err`). */
  errors: string;
  /** SIPp's own stdout and stderr. */
  output: string;
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** Reads the cumulative column of a counter line from SIPp's final statistics screen. */
function readCounter(screen: string, label: string): number {
  const lines = screen.split('\n').filter((line) => line.trimStart().startsWith(label));
  const last = lines[lines.length - 1];
  if (!last) return 0;
  const columns = last.split('|').map((column) => column.trim());
  const value = Number.parseInt(columns[columns.length - 1] ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

/** Builds the SIPp command line for `options`, writing logs under `logDir`. */
export function buildSippArgs(options: RunSippOptions, logDir: string): string[] {
  const scenario = isAbsolute(options.scenario) ? options.scenario : join(SCENARIO_DIR, options.scenario);
  const timeoutSec = Math.max(1, Math.floor((options.timeoutMs ?? 15000) / 1000) - 1);
  const args = [
    options.remote,
    '-sf', scenario,
    '-i', options.local.host,
    '-p', String(options.local.port),
    '-t', options.transport,
    '-m', String(options.calls ?? 1),
    '-r', String(options.rate ?? 10),
    '-timeout', `${timeoutSec}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_msg', '-message_file', join(logDir, 'messages.log'),
    '-trace_err', '-error_file', join(logDir, 'errors.log'),
    '-trace_screen', '-screen_file', join(logDir, 'screen.log'),
  ];
  if (options.service) args.push('-s', options.service);
  if (options.auth) args.push('-au', options.auth.username, '-ap', options.auth.password);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push('-set', name, value);
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, value);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** A SIPp run in progress (e.g. a UAS waiting for a request while the test drives a UAC). */
export interface SippRun {
  /** Resolves when SIPp exits (or is killed at `timeoutMs`). */
  done: Promise<SippResult>;
  /** Resolves once SIPp has bound its socket and is ready for traffic. */
  ready: Promise<void>;
}

/**
 * Starts a SIPp scenario in the background. Use for UAS scenarios: await `ready`, drive traffic,
 * then await `done`.
 *
 * @example
 * const uas = startSipp({ scenario: 'message-uas.xml', remote: kam.address, local, transport: 'u1' });
 * await uas.ready;
 */
export function startSipp(options: RunSippOptions): SippRun {
  const logDir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const sipp = startProcess({ command: 'sipp', args: buildSippArgs(options, logDir), cwd: logDir, label: 'sipp' });
  const done = (async (): Promise<SippResult> => {
    try {
      const exit = await sipp.waitForExit((options.timeoutMs ?? 15000) + 2000);
      const screen = readIfExists(join(logDir, 'screen.log'));
      return {
        exitCode: exit.code,
        stats: {
          successfulCalls: readCounter(screen, 'Successful call'),
          failedCalls: readCounter(screen, 'Failed call'),
        },
        messages: readIfExists(join(logDir, 'messages.log')),
        errors: readIfExists(join(logDir, 'errors.log')),
        output: sipp.stdout + sipp.stderr,
      };
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  })();
  // SIPp opens its message trace once its sockets are bound; poll for it (bounded).
  const ready = (async (): Promise<void> => {
    for (let i = 0; i < 100; i += 1) {
      if (existsSync(join(logDir, 'messages.log')) || sipp.exit) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { done, ready };
}

/**
 * Runs one SIPp scenario to completion (bounded by `timeoutMs`) and returns its exit code, call
 * counters and message trace.
 *
 * @example
 * const result = await runSipp({ scenario: 'options-uac.xml', remote: '127.0.0.1:5060',
 *   local: { host: '127.0.0.1', port: 5070 }, transport: 'u1' });
 * expect(result.exitCode).toBe(0);
 */
export function runSipp(options: RunSippOptions): Promise<SippResult> {
  return startSipp(options).done;
}
