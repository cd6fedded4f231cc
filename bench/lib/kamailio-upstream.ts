/**
 * Kamailio 5.6 as the upstream registrar of the storm, from the integration tests' configuration
 * (test/support/kamailio.ts `renderKamailioConfig`), started with enough shared memory for tens of
 * thousands of AoRs (the test harness's 32 MB holds a few thousand) and read through kamcmd.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderKamailioConfig } from '../../test/support/kamailio';
import { startProcess } from '../../test/support/process';

/** A running upstream registrar. */
export interface KamailioUpstream {
  readonly address: string;
  readonly pid: number | undefined;
  /** REGISTER requests Kamailio has received (`core:rcv_requests_register`). */
  registersReceived(): Promise<number>;
  /** Kamailio's own statistic by name (without group), e.g. `accepted_regs`. */
  statistic(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** Options of {@link startKamailioUpstream}. */
export interface KamailioUpstreamOptions {
  host: string;
  port: number;
  domain: string;
  /** Addresses whose REGISTERs skip the digest challenge (the gateway's). */
  trustedSources: string[];
  /** Shared memory, MB (usrloc keeps every binding there). */
  sharedMemoryMb: number;
}

function kamcmd(socket: string, args: string[], timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kamcmd', ['-s', socket, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kamcmd ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Starts Kamailio in the foreground and waits (at most 10 s) until its control socket answers. */
export async function startKamailioUpstream(options: KamailioUpstreamOptions): Promise<KamailioUpstream> {
  const runDir = mkdtempSync(join(tmpdir(), 'storm-kamailio-'));
  const cfgPath = join(runDir, 'kamailio.cfg');
  writeFileSync(
    cfgPath,
    renderKamailioConfig({
      host: options.host,
      port: options.port,
      domain: options.domain,
      runDir,
      // The template needs one user; the storm's REGISTERs come from trusted sources and never use it.
      users: { unused: 'unused' },
      trustedSources: options.trustedSources,
      maxExpiresSec: 7200,
      debugLevel: 0,
    }),
  );
  const socket = `unix:${join(runDir, 'kamailio_ctl')}`;
  const kamailio = startProcess({
    command: 'kamailio',
    args: ['-DD', '-E', '-f', cfgPath, '-Y', runDir, '-P', join(runDir, 'kamailio.pid'), '-m', String(options.sharedMemoryMb), '-M', '16'],
    cwd: runDir,
    label: `kamailio:${options.port}`,
  });
  const stop = async (): Promise<void> => {
    await kamailio.stop();
    rmSync(runDir, { recursive: true, force: true });
  };
  const deadlineMs = Date.now() + 10_000;
  for (;;) {
    if (kamailio.exit) {
      const output = kamailio.tail();
      await stop();
      throw new Error(`kamailio exited during start:\n${output}`);
    }
    try {
      await kamcmd(socket, ['core.version'], 1000);
      break;
    } catch (error) {
      if (Date.now() > deadlineMs) {
        await stop();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const statistic = async (name: string): Promise<number> => {
    const text = await kamcmd(socket, ['stats.get_statistics', name]);
    const match = /=\s*(\d+)/.exec(text);
    if (!match) throw new Error(`kamailio statistic ${name} not found in: ${text}`);
    return Number.parseInt(match[1]!, 10);
  };
  return {
    address: `${options.host}:${options.port}`,
    pid: kamailio.pid,
    registersReceived: () => statistic('rcv_requests_register'),
    statistic,
    stop,
  };
}
