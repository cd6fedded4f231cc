/**
 * The contacts and Path the mid-registrar shows upstream (SPEC FWD-3, FWD-5, FWD-6, PTH-7).
 *
 * @remarks
 * HOST, PORT and T come from `advertisedUri` (T only when it is not UDP), so every URI upstream holds
 * points back at the mid-registrar, where lookup finds the binding again (LKP-2).
 */
import type { MidRegistrarConfig } from '../config';
import { MidRegistrarError } from '../errors';
import { createPathToken } from '../token';
import { USER, inTable, quote } from '../../../sip-gateway/src/sip/chars';
import { type HeaderParam, formatHeaderParams } from '../../../sip-gateway/src/sip/header-params';
import { type SipUri, parseUri, uriParam } from '../../../sip-gateway/src/sip/uri';

/** `HOST:PORT[;transport=T]` of `advertisedUri`, split for building URIs. */
export interface AdvertisedAddress {
  /** `host` or `host:port`. */
  hostPort: string;
  /** `;transport=T`, or empty for UDP / no transport. */
  transportParam: string;
}

/** Reads HOST, PORT and T from `advertisedUri` (validated by parseConfig). */
export function advertisedAddress(config: MidRegistrarConfig): AdvertisedAddress {
  const uri: SipUri = parseUri(config.advertisedUri);
  const transport = uriParam(uri, 'transport');
  return {
    hostPort: uri.port === undefined ? uri.host : `${uri.host}:${uri.port}`,
    transportParam: typeof transport === 'string' && transport.toLowerCase() !== 'udp' ? `;transport=${transport}` : '',
  };
}

/**
 * FWD-3: the URI a UA contact becomes with contact insertion (modes 0, 1).
 *
 * @param uaUser the user part of the UA's contact URI as on the wire (escaped), if any.
 * @example
 * ```ts
 * // advertisedUri sip:203.0.113.10:5060, contactIdIn param
 * insertedContactUri(config, 'alice', '4250694360795977181');
 * // 'sip:alice@203.0.113.10:5060;ctid=4250694360795977181'
 * ```
 */
export function insertedContactUri(config: MidRegistrarConfig, uaUser: string | undefined, contactId: string): string {
  const { hostPort, transportParam } = advertisedAddress(config);
  if (config.contactIdIn === 'user') return `sip:${contactId}@${hostPort}${transportParam}`;
  // Δ OpenSIPS emits `sip:@HOST` for a contact without user part; an empty user is not a valid URI.
  const user = uaUser === undefined || uaUser.length === 0 ? '' : `${uaUser}@`;
  return `sip:${user}${hostPort};${config.contactIdParam}=${contactId}${transportParam}`;
}

/**
 * A relayed contact header value: `<URI>[;q=Q];expires=E` (FWD-2, FWD-3, FWD-6). q is kept
 * (Δ OpenSIPS drops it); every other UA parameter is dropped.
 */
export function relayedContactValue(uri: string, q: string | undefined, relayedExpiresSec: number): string {
  return `<${uri}>${q === undefined ? '' : `;q=${q}`};expires=${relayedExpiresSec}`;
}

/**
 * FWD-5: with path insertion the UA's contact is relayed as sent, except `expires`, which becomes E.
 */
export function pathInsertionContactValue(
  displayName: string | undefined,
  uriText: string,
  params: readonly HeaderParam[],
  relayedExpiresSec: number,
): string {
  const kept = params.filter((p) => p.name.toLowerCase() !== 'expires');
  const name = displayName === undefined ? '' : `${quote(displayName)} `;
  return `${name}<${uriText}>${formatHeaderParams(kept)};expires=${relayedExpiresSec}`;
}

/**
 * FWD-6: ESC, the AoR as a user part: user-part-safe characters kept, the first `@` replaced by
 * `atEscape`, every other byte of its UTF-8 form as `%XX` (uppercase).
 *
 * @example
 * ```ts
 * escapeAor('alice@example.com', '%40'); // 'alice%40example.com'
 * escapeAor('alice@example.com', '___'); // 'alice___example.com'
 * ```
 */
export function escapeAor(aor: string, atEscape: string): string {
  let out = '';
  let atReplaced = false;
  for (const byte of Buffer.from(aor, 'utf8')) {
    if (byte === 0x40 && !atReplaced) {
      out += atEscape;
      atReplaced = true;
    } else if (byte !== 0x25 && inTable(USER, byte)) {
      // `%` itself is user-part-safe only as the start of an escape, so a literal one is escaped.
      out += String.fromCharCode(byte);
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** FWD-6: the mode 2 aggregated contact URI `sip:ESC@HOST:PORT;ctid=INC[;transport=T]`. */
export function aggregatedContactUri(config: MidRegistrarConfig, aor: string, incarnationId: string): string {
  const { hostPort, transportParam } = advertisedAddress(config);
  return `sip:${escapeAor(aor, config.atEscape)}@${hostPort};${config.contactIdParam}=${incarnationId}${transportParam}`;
}

/**
 * FWD-5, PTH-7: our Path value `<sip:TOKEN@HOST:PORT;lr[;transport=T]>`, the token naming the AoR.
 *
 * @throws MidRegistrarError when `tokenSecret` is missing (the adapter must generate one at start-up).
 */
export function ourPathValue(config: MidRegistrarConfig, aor: string): string {
  if (config.tokenSecret === undefined) {
    throw new MidRegistrarError('tokenSecret is required for path insertion; the adapter must provide one');
  }
  const { hostPort, transportParam } = advertisedAddress(config);
  return `<sip:${createPathToken(config.tokenSecret, aor)}@${hostPort};lr${transportParam}>`;
}

