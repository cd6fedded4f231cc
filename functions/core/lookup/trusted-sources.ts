/**
 * Matching a request's source against `trustedUpstreamSources` (SPEC CFG-1, LKP-1, LKP-10).
 */
import { parseIpAddress } from './ip-address';

/** One parsed `trustedUpstreamSources` entry. */
interface SourceMatcher {
  /** Network address bytes (4 or 16). */
  network: Uint8Array;
  /** Leading bits that must match. */
  prefixBits: number;
  /** Port that must match, when the entry named one. */
  port?: number;
}

/** A compiled list of trusted sources; build once per configuration. */
export interface TrustedSources {
  readonly matchers: readonly SourceMatcher[];
  /** Entries that are not IP forms (host names); a source matches them only by equal text. */
  readonly names: readonly string[];
}

const PORT_PATTERN = /^\d{1,5}$/;

function parsePort(text: string): number | undefined {
  if (!PORT_PATTERN.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Splits `IP`, `IP:port`, `[IPv6]`, `[IPv6]:port` or `IP/bits` into a matcher. */
function parseEntry(entry: string): SourceMatcher | undefined {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const network = parseIpAddress(entry.slice(0, slash));
    const bitsText = entry.slice(slash + 1);
    if (network === undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
    // An IPv4-mapped IPv6 prefix was reduced to IPv4 bytes: drop the 96 mapped bits from the prefix too.
    const written = entry.slice(0, slash).includes(':') && network.length === 4 ? Number(bitsText) - 96 : Number(bitsText);
    if (written < 0 || written > network.length * 8) return undefined;
    return { network, prefixBits: written };
  }
  const whole = parseIpAddress(entry);
  if (whole !== undefined) return { network: whole, prefixBits: whole.length * 8 };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
  const hostPort = bracketed ?? /^([^:]+):(\d+)$/.exec(entry);
  if (hostPort === null) return undefined;
  const network = parseIpAddress(hostPort[1]);
  const port = parsePort(hostPort[2]);
  if (network === undefined || port === undefined) return undefined;
  return { network, prefixBits: network.length * 8, port };
}

/**
 * Compiles `trustedUpstreamSources` entries: IP, IP:port, `[IPv6]:port`, CIDR (`10.0.0.0/8`,
 * `2001:db8::/32`). Anything else (a host name) is kept and matched by exact text.
 *
 * @example
 * ```ts
 * const trusted = compileTrustedSources(['203.0.113.0/24', '198.51.100.9:5060']);
 * isTrustedSource(trusted, '203.0.113.77', 5080); // true
 * ```
 */
export function compileTrustedSources(entries: readonly string[]): TrustedSources {
  const matchers: SourceMatcher[] = [];
  const names: string[] = [];
  for (const entry of entries) {
    const matcher = parseEntry(entry.trim());
    if (matcher === undefined) names.push(entry.trim().toLowerCase());
    else matchers.push(matcher);
  }
  return { matchers, names };
}

function prefixMatches(network: Uint8Array, address: Uint8Array, prefixBits: number): boolean {
  if (network.length !== address.length) return false;
  const fullBytes = Math.floor(prefixBits / 8);
  for (let index = 0; index < fullBytes; index += 1) {
    if (network[index] !== address[index]) return false;
  }
  const restBits = prefixBits % 8;
  if (restBits === 0) return true;
  const mask = (0xff << (8 - restBits)) & 0xff;
  return (network[fullBytes] & mask) === (address[fullBytes] & mask);
}

/**
 * Whether a request from `address`:`port` comes from a trusted upstream source (SPEC LKP-1).
 */
export function isTrustedSource(trusted: TrustedSources, address: string, port: number): boolean {
  const bytes = parseIpAddress(address);
  if (bytes === undefined) return trusted.names.includes(address.toLowerCase());
  return trusted.matchers.some(
    (matcher) =>
      (matcher.port === undefined || matcher.port === port) && prefixMatches(matcher.network, bytes, matcher.prefixBits),
  );
}
