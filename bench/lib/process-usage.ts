/**
 * CPU time and memory of another process, read from Linux /proc (the gateway under test).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU and memory of a process at one instant. */
export interface ProcessUsage {
  /** User plus system CPU time since the process started, in seconds. */
  cpuSec: number;
  /** Resident set size now, in bytes (VmRSS). */
  rssBytes: number;
  /** Peak resident set size since the process started, in bytes (VmHWM). */
  peakRssBytes: number;
}

let clockTicksPerSec: number | undefined;

function ticksPerSec(): number {
  clockTicksPerSec ??= Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10) || 100;
  return clockTicksPerSec;
}

function statusKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number.parseInt(match[1]!, 10) : 0;
}

/**
 * Reads `/proc/<pid>/stat` (utime, stime: fields 14 and 15, in clock ticks) and `/proc/<pid>/status`.
 *
 * @throws when the process does not exist
 */
export function readProcessUsage(pid: number): ProcessUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after it start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number.parseInt(fields[11]!, 10) + Number.parseInt(fields[12]!, 10);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuSec: ticks / ticksPerSec(), rssBytes: statusKiB(status, 'VmRSS') * 1024, peakRssBytes: statusKiB(status, 'VmHWM') * 1024 };
}

/**
 * Datagrams dropped because a socket's receive buffer was full, per socket (inode) whose local
 * `ip:port` matches (`/proc/net/udp`, last column; cumulative since the socket was opened).
 */
export function readUdpDrops(matches: (ip: string, port: number) => boolean): Map<string, number> {
  const drops = new Map<string, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [ipHex, portHex] = (fields[1] ?? '').split(':');
    if (!ipHex || !portHex || ipHex.length !== 8) continue;
    // The kernel prints the address as one host-order (little-endian on x86 and arm64) word.
    const ip = [6, 4, 2, 0].map((offset) => Number.parseInt(ipHex.slice(offset, offset + 2), 16)).join('.');
    if (matches(ip, Number.parseInt(portHex, 16))) drops.set(fields[9] ?? '', Number.parseInt(fields[fields.length - 1] ?? '0', 10) || 0);
  }
  return drops;
}

/** Samples {@link readUdpDrops} until stopped; returns the drops that occurred meanwhile (sockets that closed included). */
export function startUdpDropSampler(matches: (ip: string, port: number) => boolean, intervalMs: number): { stop(): number } {
  const first = readUdpDrops(matches);
  const latest = new Map(first);
  const sample = (): void => {
    for (const [inode, drops] of readUdpDrops(matches)) latest.set(inode, drops);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      let total = 0;
      for (const [inode, drops] of latest) total += drops - (first.get(inode) ?? 0);
      return total;
    },
  };
}
