/**
 * Kamailio 5.6 as the upstream registrar of the storm, from the integration tests' configuration
 * (test/support/kamailio.ts `startKamailio`), started with enough shared memory for tens of
 * thousands of AoRs (the test harness's 32 MB holds a few thousand) and read through kamcmd.
 */
import { startKamailio } from '../../test/support/kamailio';

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

/** Starts Kamailio through the integration harness, sized and trusted for the storm. */
export async function startKamailioUpstream(options: KamailioUpstreamOptions): Promise<KamailioUpstream> {
  const kamailio = await startKamailio({
    host: options.host,
    port: options.port,
    domain: options.domain,
    // The template needs one user; the storm's REGISTERs come from trusted sources and never use it.
    users: { unused: 'unused' },
    trustedSources: options.trustedSources,
    debugLevel: 0,
    sharedMemoryMb: options.sharedMemoryMb,
    privateMemoryMb: 16,
  });
  const statistic = async (name: string): Promise<number> => {
    const text = await kamailio.rpc('stats.get_statistics', name);
    const match = /=\s*(\d+)/.exec(text);
    if (!match) throw new Error(`kamailio statistic ${name} not found in: ${text}`);
    return Number.parseInt(match[1]!, 10);
  };
  return {
    address: kamailio.address,
    pid: kamailio.process.pid,
    registersReceived: () => statistic('rcv_requests_register'),
    statistic,
    stop: () => kamailio.stop(),
  };
}
