/**
 * SIPp injection files (`-inf`) for the REGISTER storm. SIPp reads a SEQUENTIAL file one line per
 * call, so call n of every run is device n: with `-cid_str storm-%u@register-storm` the device's
 * Call-ID is the same in every run, and each run visits each device at most once with one CSeq.
 */
import { writeFileSync } from 'node:fs';

/** One simulated device: its source address and the dialog values it keeps across refreshes. */
export interface StormDevice {
  /** Loopback source address (SIPp `-t ui -ip_field 0`). */
  readonly ip: string;
  readonly user: string;
  readonly fromTag: string;
}

/** SIPp's Call-ID format: device n (SIPp call number n) gets `storm-n@register-storm` in every run. */
export const STORM_CALL_ID_FORMAT = 'storm-%u@register-storm';

/**
 * `count` devices spread round-robin over `sourceIps`, each with its own AoR user
 * (`<userPrefix><n>`) and From-tag.
 *
 * @example
 * const devices = makeDevices(60_000, sourceAddresses(32), 'storm');
 */
export function makeDevices(count: number, sourceIps: readonly string[], userPrefix: string): StormDevice[] {
  if (sourceIps.length === 0) throw new RangeError('at least one source address is needed');
  return Array.from({ length: count }, (_, index) => ({
    ip: sourceIps[index % sourceIps.length]!,
    user: `${userPrefix}${index + 1}`,
    fromTag: `st${index + 1}`,
  }));
}

/** `count` loopback addresses 127.0.1.1, 127.0.1.2, … (at most 254). */
export function sourceAddresses(count: number): string[] {
  if (count < 1 || count > 254) throw new RangeError('1..254 source addresses');
  return Array.from({ length: count }, (_, index) => `127.0.1.${index + 1}`);
}

/**
 * Writes an injection file for one SIPp run over the first `calls` devices, all with `cseq`. A run
 * with a higher `cseq` than every earlier run is a refresh of each device it visits (RFC 3261 §10.2.4).
 */
export function writeInjectionFile(path: string, devices: readonly StormDevice[], calls: number, cseq: number): void {
  if (calls > devices.length) throw new RangeError(`${calls} calls need as many devices (have ${devices.length})`);
  const lines = ['SEQUENTIAL'];
  for (let call = 0; call < calls; call += 1) {
    const device = devices[call]!;
    lines.push(`${device.ip};${device.user};${cseq};${device.fromTag}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}
