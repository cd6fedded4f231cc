/**
 * Authenticated tokens for Path and Record-Route user parts (SPEC PTH-7, FWD-5, LKP-2, LKP-9, LKP-10).
 *
 * @remarks
 * A token is `base64url(kind ‖ payload ‖ MAC)` where MAC is HMAC-SHA256 under `tokenSecret` over
 * `kind ‖ payload`, truncated to 96 bits (RFC 2104 §5 allows truncation to no less than half the
 * hash length in bits or 80 bits; 96 bits is the common choice, e.g. RFC 4868 uses it with SHA-256
 * for IPsec). The base64url alphabet (`A–Z a–z 0–9 - _`) is all `unreserved` in RFC 3261 §25.1, so a token is
 * safe as a SIP URI user part without escaping. The kind byte separates the two token families, so a
 * Path token can never be accepted as a flow token or the other way round.
 *
 * Tokens are not encrypted: the AoR and flow are visible to whoever sees the URI. They only prevent
 * forgery: a request naming a record or flow the mid-registrar did not hand out gets 403 (LKP-10).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatIpAddress, parseIpAddress } from './lookup/ip-address';
import type { Flow, FlowTransport } from './model';

/** The `tokenSecret` key material (CFG-1): a string (UTF-8) or raw bytes. */
export type TokenKey = string | Uint8Array;

/**
 * The device-side flow a Record-Route token names (SPEC LKP-9, PTH-3): the binding's {@link Flow}.
 */
export type FlowTokenFlow = Flow;

const MAC_BYTES = 12;
const KIND_PATH = 0x50;
const KIND_FLOW = 0x46;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const TRANSPORT_CODES: readonly FlowTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss', 'sctp'];
/** Address encodings inside a flow token: a 4- or 16-byte IP in canonical text form, else the text itself. */
const ADDRESS_IPV4 = 4;
const ADDRESS_IPV6 = 6;
const ADDRESS_TEXT = 0;

function computeMac(key: TokenKey, signed: Buffer): Buffer {
  return createHmac('sha256', key).update(signed).digest().subarray(0, MAC_BYTES);
}

function seal(key: TokenKey, kind: number, payload: Buffer): string {
  const signed = Buffer.concat([Buffer.of(kind), payload]);
  return Buffer.concat([signed, computeMac(key, signed)]).toString('base64url');
}

/** The payload of a token of this kind with a valid MAC, else undefined. */
function open(key: TokenKey, kind: number, token: string): Buffer | undefined {
  if (!BASE64URL_PATTERN.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  // Only the canonical encoding is accepted, so one token value maps to one byte string.
  if (raw.length < 1 + MAC_BYTES || raw.toString('base64url') !== token || raw[0] !== kind) return undefined;
  const signed = raw.subarray(0, raw.length - MAC_BYTES);
  const mac = raw.subarray(raw.length - MAC_BYTES);
  if (!timingSafeEqual(mac, computeMac(key, signed))) return undefined;
  return signed.subarray(1);
}

/**
 * Creates the Path token naming an AoR record (SPEC FWD-5, PTH-7).
 *
 * @example
 * ```ts
 * const token = createPathToken(secret, 'alice@example.com');
 * // Path: <sip:${token}@203.0.113.10:5060;lr>
 * ```
 */
export function createPathToken(key: TokenKey, aor: string): string {
  return seal(key, KIND_PATH, Buffer.from(aor, 'utf8'));
}

/**
 * Verifies a Path token (SPEC LKP-2, LKP-10).
 *
 * @returns the AoR it names, or undefined if it is not a Path token made with this key.
 */
export function verifyPathToken(key: TokenKey, token: string): string | undefined {
  const payload = open(key, KIND_PATH, token);
  if (payload === undefined) return undefined;
  const aor = payload.toString('utf8');
  return Buffer.from(aor, 'utf8').equals(payload) && aor.length > 0 ? aor : undefined;
}

function encodeAddress(address: string): Buffer {
  const bytes = parseIpAddress(address);
  // Packed only when unpacking gives back the same text, so the flow round-trips exactly.
  if (bytes !== undefined && formatIpAddress(bytes) === address) {
    return Buffer.concat([Buffer.of(bytes.length === 4 ? ADDRESS_IPV4 : ADDRESS_IPV6), bytes]);
  }
  return Buffer.concat([Buffer.of(ADDRESS_TEXT), encodeText(address)]);
}

function encodeText(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 255) throw new RangeError(`flow token field longer than 255 bytes: ${text.slice(0, 40)}…`);
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

function encodePort(port: number): Buffer {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port ${port}`);
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(port);
  return buffer;
}

/**
 * Creates the Record-Route token naming a device-side flow (SPEC LKP-9, PTH-7).
 *
 * @throws RangeError for a port outside 0–65535 or a text field over 255 bytes (a programmer error).
 * @example
 * ```ts
 * const token = createFlowToken(secret, { transport: 'udp', remoteAddress: '192.0.2.7', remotePort: 5062,
 *   localAddress: '10.0.0.5', localPort: 5060, gatewayId: 'gw-1' });
 * // Record-Route: <sip:${token}@203.0.113.10:5060;lr>
 * ```
 */
export function createFlowToken(key: TokenKey, flow: FlowTokenFlow): string {
  const transportCode = TRANSPORT_CODES.indexOf(flow.transport);
  if (transportCode < 0) throw new RangeError(`unknown transport ${flow.transport}`);
  const payload = Buffer.concat([
    Buffer.of(transportCode),
    encodeAddress(flow.remoteAddress),
    encodePort(flow.remotePort),
    encodeAddress(flow.localAddress),
    encodePort(flow.localPort),
    encodeText(flow.gatewayId),
    // Connection id: 0 = none, else length + 1, so an empty id is distinct from none.
    flow.connectionId === undefined
      ? Buffer.of(0)
      : Buffer.concat([Buffer.of(1), encodeText(flow.connectionId)]),
  ]);
  return seal(key, KIND_FLOW, payload);
}

/** A cursor over a flow token payload; every read returns undefined past the end. */
class PayloadReader {
  private offset = 0;
  constructor(private readonly payload: Buffer) {}

  get done(): boolean {
    return this.offset === this.payload.length;
  }

  bytes(length: number): Buffer | undefined {
    if (this.offset + length > this.payload.length) return undefined;
    const slice = this.payload.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  byte(): number | undefined {
    return this.bytes(1)?.[0];
  }

  text(): string | undefined {
    const length = this.byte();
    return length === undefined ? undefined : this.bytes(length)?.toString('utf8');
  }

  port(): number | undefined {
    return this.bytes(2)?.readUInt16BE();
  }

  address(): string | undefined {
    const tag = this.byte();
    if (tag === ADDRESS_IPV4 || tag === ADDRESS_IPV6) {
      const bytes = this.bytes(tag === ADDRESS_IPV4 ? 4 : 16);
      return bytes === undefined ? undefined : formatIpAddress(bytes);
    }
    return tag === ADDRESS_TEXT ? this.text() : undefined;
  }
}

/**
 * Verifies a Record-Route token (SPEC LKP-9, LKP-10).
 *
 * @returns the flow it names, or undefined if it is not a flow token made with this key.
 */
export function verifyFlowToken(key: TokenKey, token: string): FlowTokenFlow | undefined {
  const payload = open(key, KIND_FLOW, token);
  if (payload === undefined) return undefined;
  const reader = new PayloadReader(payload);
  const transport = TRANSPORT_CODES[reader.byte() ?? -1];
  const remoteAddress = reader.address();
  const remotePort = reader.port();
  const localAddress = reader.address();
  const localPort = reader.port();
  const gatewayId = reader.text();
  const hasConnection = reader.byte();
  const connectionId = hasConnection === 1 ? reader.text() : undefined;
  if (
    transport === undefined || remoteAddress === undefined || remotePort === undefined ||
    localAddress === undefined || localPort === undefined || gatewayId === undefined ||
    (hasConnection !== 0 && connectionId === undefined) || !reader.done
  ) {
    return undefined;
  }
  const flow: FlowTokenFlow = { transport, remoteAddress, remotePort, localAddress, localPort, gatewayId };
  if (connectionId !== undefined) flow.connectionId = connectionId;
  return flow;
}
