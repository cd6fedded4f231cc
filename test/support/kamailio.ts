/**
 * Kamailio 5.6 as the main (upstream) registrar for integration tests: in-memory location table,
 * digest auth with fixed passwords, Path stored and used as the Route set (RFC 3327, for the
 * mid-registrar's path insertion), relay of INVITE/MESSAGE to registered contacts with
 * Record-Route. One instance per call, on its own port and temp directory, in the foreground.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePort } from './ports';
import { startProcess, type ManagedProcess } from './process';

const TEMPLATE = join(__dirname, 'kamailio', 'registrar.cfg.tpl');

/** Options for {@link startKamailio}. */
export interface StartKamailioOptions {
  /** Listen address (UDP and TCP). Default 127.0.0.1. */
  host?: string;
  /** Listen port; allocated when omitted. */
  port?: number;
  /** SIP domain of the AoRs. Default `example.com`. */
  domain?: string;
  /** username → password for digest auth. Default `{ alice: 'secret', bob: 'secret' }`. */
  users?: Record<string, string>;
  /**
   * Sources whose REGISTERs are accepted without credentials (the mid-registrar): `ip` or
   * `ip:port`. Default none.
   */
  trustedSources?: string[];
  /** registrar `max_expires`. Default 7200. */
  maxExpiresSec?: number;
  /** Kamailio debug level (0..3). Default 1. */
  debugLevel?: number;
  /** Shared memory in MB (usrloc keeps every binding there; 32 MB holds a few thousand). Default 32. */
  sharedMemoryMb?: number;
  /** Private memory per worker in MB. Default 8. */
  privateMemoryMb?: number;
}

/** One contact of an AoR as Kamailio's location table holds it. */
export interface KamailioBinding {
  contact: string;
  expiresSec: number;
  callId?: string;
  cseq?: number;
  received?: string;
  path?: string;
}

/** A running Kamailio instance. */
export interface KamailioInstance {
  host: string;
  port: number;
  domain: string;
  /** `host:port`, ready for SIPp's remote argument. */
  address: string;
  process: ManagedProcess;
  /** Current bindings of `aor` (`user@domain`); empty when the AoR is unknown. */
  dumpBindings(aor: string): Promise<KamailioBinding[]>;
  /** Runs a kamcmd RPC command and returns its text output. */
  rpc(...args: string[]): Promise<string>;
  /** Stops Kamailio and removes its temp directory. */
  stop(): Promise<void>;
}

/** Where Debian installs Kamailio modules, per architecture. */
const MODULE_DIR_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/kamailio/modules',
  '/usr/lib/aarch64-linux-gnu/kamailio/modules',
  '/usr/lib/kamailio/modules',
  '/usr/local/lib64/kamailio/modules',
];

function findModulesDir(): string {
  const found = MODULE_DIR_CANDIDATES.find((dir) => existsSync(join(dir, 'registrar.so')));
  if (!found) throw new Error(`Kamailio modules not found in ${MODULE_DIR_CANDIDATES.join(', ')} (apt-get install kamailio)`);
  return found;
}

function escapeCfgString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function trustedCondition(sources: string[]): string {
  if (sources.length === 0) return '0';
  return sources
    .map((source) => {
      const match = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(source);
      if (!match) throw new Error(`trusted source must be ip or ip:port: ${source}`);
      return match[2] ? `($si == "${match[1]}" && $sp == ${match[2]})` : `$si == "${match[1]}"`;
    })
    .join(' || ');
}

/** Fills the cfg template; exported so its output can be checked without starting Kamailio. */
export function renderKamailioConfig(values: {
  host: string;
  port: number;
  domain: string;
  runDir: string;
  users: Record<string, string>;
  trustedSources: string[];
  maxExpiresSec: number;
  debugLevel: number;
}): string {
  const passwordLines = Object.entries(values.users)
    .map(([user, password]) => {
      if (!/^[A-Za-z0-9._-]+$/.test(user)) throw new Error(`user name not usable in cfg: ${user}`);
      return `\t$sht(passwd=>${user}) = "${escapeCfgString(password)}";`;
    })
    .join('\n');
  const replacements: Record<string, string> = {
    HOST: values.host,
    PORT: String(values.port),
    DOMAIN: values.domain,
    RUN_DIR: values.runDir,
    PASSWORD_LINES: passwordLines,
    TRUSTED_CONDITION: trustedCondition(values.trustedSources),
    MAX_EXPIRES: String(values.maxExpiresSec),
    DEBUG_LEVEL: String(values.debugLevel),
    MODULES_DIR: findModulesDir(),
  };
  return readFileSync(TEMPLATE, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = replacements[name];
    if (value === undefined) throw new Error(`unknown template placeholder ${name}`);
    return value;
  });
}

function runKamcmd(socket: string, args: string[], timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kamcmd', ['-s', socket, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kamcmd ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Parses `kamcmd ul.lookup` text output into bindings.
 *
 * The output is a nested `{ Key: value }` tree; each `Contact: {` block holds one binding.
 */
export function parseUlLookup(text: string): KamailioBinding[] {
  const bindings: KamailioBinding[] = [];
  let current: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^Contact:\s*\{$/.test(line)) {
      current = {};
      continue;
    }
    if (!current) continue;
    if (line === '}') {
      bindings.push({
        contact: current.Address ?? '',
        expiresSec: Number.parseInt(current.Expires ?? '0', 10),
        callId: current['Call-ID'],
        cseq: current.CSeq !== undefined ? Number.parseInt(current.CSeq, 10) : undefined,
        received: current.Received && current.Received !== '[not set]' ? current.Received : undefined,
        path: current.Path && current.Path !== '[not set]' ? current.Path : undefined,
      });
      current = undefined;
      continue;
    }
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (match && match[1] !== undefined && match[2] !== undefined) current[match[1]] = match[2];
  }
  return bindings;
}

/**
 * Starts Kamailio in the foreground and waits until its control socket answers.
 *
 * @example
 * const kam = await startKamailio({ trustedSources: ['127.0.0.2'] });
 * afterAll(() => kam.stop());
 * expect(await kam.dumpBindings('alice@example.com')).toHaveLength(1);
 */
export async function startKamailio(options: StartKamailioOptions = {}): Promise<KamailioInstance> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await allocatePort(host));
  const domain = options.domain ?? 'example.com';
  const runDir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const cfgPath = join(runDir, 'kamailio.cfg');
  writeFileSync(
    cfgPath,
    renderKamailioConfig({
      host,
      port,
      domain,
      runDir,
      users: options.users ?? { alice: 'secret', bob: 'secret' },
      trustedSources: options.trustedSources ?? [],
      maxExpiresSec: options.maxExpiresSec ?? 7200,
      debugLevel: options.debugLevel ?? 1,
    }),
  );
  const socket = `unix:${join(runDir, 'kamailio_ctl')}`;
  const kamailio = startProcess({
    command: 'kamailio',
    args: ['-DD', '-E', '-f', cfgPath, '-Y', runDir, '-P', join(runDir, 'kamailio.pid'), '-m', String(options.sharedMemoryMb ?? 32), '-M', String(options.privateMemoryMb ?? 8)],
    cwd: runDir,
    label: `kamailio:${port}`,
  });
  const stop = async (): Promise<void> => {
    await kamailio.stop();
    rmSync(runDir, { recursive: true, force: true });
  };
  const deadlineMs = Date.now() + 10000;
  for (;;) {
    if (kamailio.exit) {
      const output = kamailio.tail();
      await stop();
      throw new Error(`kamailio exited during start:\n${output}`);
    }
    try {
      await runKamcmd(socket, ['core.version'], 1000);
      break;
    } catch (error) {
      if (Date.now() > deadlineMs) {
        await stop();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const rpc = (...args: string[]): Promise<string> => runKamcmd(socket, args);
  return {
    host,
    port,
    domain,
    address: `${host}:${port}`,
    process: kamailio,
    rpc,
    async dumpBindings(aor: string): Promise<KamailioBinding[]> {
      try {
        return parseUlLookup(await rpc('ul.lookup', 'location', aor));
      } catch (error) {
        if (/not found/i.test((error as Error).message)) return [];
        throw error;
      }
    },
    stop,
  };
}
