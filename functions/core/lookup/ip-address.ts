/**
 * IP address text ↔ bytes, without node:net (the core is pure).
 *
 * @remarks
 * Used to match a request's source against `trustedUpstreamSources` (SPEC CFG-1, LKP-1: IPs,
 * IP:ports and CIDRs) and to pack addresses into flow tokens (SPEC PTH-7, LKP-9). IPv4-mapped
 * IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports) are treated as the IPv4
 * address, so one configuration entry covers both socket kinds.
 */

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP_PATTERN = /^[0-9a-fA-F]{1,4}$/;

/** Bytes of a dotted-quad IPv4 address (4 bytes), or undefined. */
function parseIpv4(text: string): Uint8Array | undefined {
  if (!IPV4_PATTERN.test(text)) return undefined;
  return Uint8Array.from(text.split('.').map(Number));
}

/** Bytes of an IPv6 address in RFC 4291 §2.2 text form (16 bytes), or undefined. */
function parseIpv6(text: string): Uint8Array | undefined {
  const zoneFree = text.split('%')[0];
  let groups: string[];
  const doubleColon = zoneFree.indexOf('::');
  if (doubleColon !== zoneFree.lastIndexOf('::')) return undefined;
  let body = zoneFree;
  // RFC 4291 §2.2 form 3: the last 32 bits may be written as a dotted quad.
  const lastColon = zoneFree.lastIndexOf(':');
  if (lastColon >= 0 && zoneFree.slice(lastColon + 1).includes('.')) {
    const tail = parseIpv4(zoneFree.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    const high = ((tail[0] << 8) | tail[1]).toString(16);
    const low = ((tail[2] << 8) | tail[3]).toString(16);
    body = `${zoneFree.slice(0, lastColon + 1)}${high}:${low}`;
  }
  if (doubleColon >= 0) {
    const [head, rest] = body.split('::');
    const headGroups = head === '' ? [] : head.split(':');
    const restGroups = rest === '' ? [] : rest.split(':');
    const missing = 8 - headGroups.length - restGroups.length;
    if (missing < 1) return undefined;
    groups = [...headGroups, ...Array<string>(missing).fill('0'), ...restGroups];
  } else {
    groups = body.split(':');
  }
  if (groups.length !== 8 || !groups.every((group) => HEX_GROUP_PATTERN.test(group))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/**
 * Parses an IPv4 or IPv6 address (brackets allowed around IPv6).
 *
 * @returns 4 bytes for IPv4 and IPv4-mapped IPv6, 16 bytes for other IPv6, undefined if not an IP address.
 * @example
 * ```ts
 * parseIpAddress('::ffff:192.0.2.1'); // Uint8Array [192, 0, 2, 1]
 * ```
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIpv4(bare);
  if (v4 !== undefined) return v4;
  const v6 = bare.includes(':') ? parseIpv6(bare) : undefined;
  if (v6 === undefined) return undefined;
  const mapped = v6.slice(0, 10).every((byte) => byte === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/**
 * Formats address bytes as text: dotted quad for 4 bytes, RFC 5952 canonical form for 16 bytes
 * (lowercase, leading zeros dropped, the longest run of two or more zero groups as `::`).
 */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2) groups.push((bytes[index] << 8) | bytes[index + 1]);
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
