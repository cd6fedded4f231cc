/**
 * The mid-registrar configuration: keys, defaults and start-up validation (SPEC CFG-1, CFG-2, CFG-4).
 *
 * @remarks
 * One JSON object configures `npm start --config FILE` and the CDK deployment alike. {@link parseConfig}
 * checks it once at start-up and returns a frozen {@link MidRegistrarConfig}; any problem throws a
 * {@link ConfigError} whose one-line message names the key. Durations are integer seconds in JSON and
 * become `…Ms` fields; SIP expiries stay in seconds (`…Sec`).
 *
 * | JSON key | field | default | meaning |
 * |---|---|---|---|
 * | `mode` | `mode` | 1 | 0 mirror, 1 contact throttling, 2 AoR throttling |
 * | `upstreamUri` | `upstreamUri` | required | Request-URI of relayed and originated REGISTERs (SIP URI) |
 * | `upstreamOutboundProxy` | `upstreamOutboundProxy` | none | `host:port[;transport=x]` next hop upstream |
 * | `trustedUpstreamSources` | `trustedUpstreamSources` | hosts of the two above (any port) | IPs, IP:ports, CIDRs; a host name matches by equal text |
 * | `advertisedUri` | `advertisedUri` | `sip:host:port[;transport=x]` of the first `listen` entry | our Contact, Path, Record-Route, Via |
 * | `insertion` | `insertion` | `contact` | `contact` or `path` (modes 0, 1) |
 * | `contactIdIn` | `contactIdIn` | `param` | `param` or `user` |
 * | `contactIdParam` | `contactIdParam` | `ctid` | URI parameter name (token) |
 * | `atEscape` | `atEscape` | `%40` | replaces `@` in the mode 2 contact user |
 * | `outgoingExpires` | `outgoingExpiresSec` | 3600 | O |
 * | `minExpires` / `maxExpires` / `defaultExpires` | `…Sec` | 10 / 3600 / 3600 | REG-3; 0 disables min or max |
 * | `tooBrief` | `tooBrief` | `clamp` | or `reject` (REG-4) |
 * | `maxContacts` / `forceRegistration` | same | 0 / false | REG-11 |
 * | `absorbRequiresSameCallId` | same | true | REG-7, M1-2, M2-2 |
 * | `trustNewContacts` | same | false | M2-2 |
 * | `allowDupCseq` / `cseqDelay` | `allowDupCseq` / `cseqDelayMs` | true / 20 s | REG-6 |
 * | `refreshMargin` | `refreshMarginMs` | 32 s | m |
 * | `upstreamTimeout` | `upstreamTimeoutMs` | 10 s | RPL-9 |
 * | `deregisterBound` | `deregisterBoundMs` | 30 s | DRG-4 |
 * | `retryMaxAttempts` / `retryBackoffBase` / `retryBackoffMax` | `…`, `…Ms`, `…Ms` | 5 / 5 s / 300 s | DRG-6 |
 * | `retryAfter` | `retryAfterMs` | 30 s | ERR-2 |
 * | `pathMode` | `pathMode` | `lazy` | `off`, `lazy`, `strict` (PTH-5) |
 * | `upstreamAuth` | `upstreamAuth` | none | `{ username, password, realm? }` for our own REGISTERs (DRG-11) |
 * | `maxUsernameLength` / `maxDomainLength` / `maxAorLength` / `maxContactLength` | same | 64 / 64 / 256 / 255 | REG-1 |
 * | `maxMessageSize` | `maxMessageSize` | 65535 | bytes (ERR-4) |
 * | `inviteTimeout` | `inviteTimeoutMs` | 180 s | Timer C (LKP-6) |
 * | `tokenSecret` | `tokenSecret` | none: the adapter generates and persists one | MAC key (PTH-7) |
 * | `listen` | `listen` | `["udp:0.0.0.0:5060","tcp:0.0.0.0:5060"]` | `udp|tcp|tls:host:port` sockets (CFG-4) |
 * | `dataDir` | `dataDir` | `./data` | embedded store directory (local mode) |
 * | `healthPort` | `healthPort` | 8080 | HTTP `GET /health` |
 * | `shardCount` | `shardCount` | 16 | shards of the due-time index (DESIGN §4, §6) |
 * | `decisionBatchMax` | `decisionBatchMax` | 10 | decisions per gateway→function invocation (DESIGN §3) |
 * | `decisionBatchWaitMs` | `decisionBatchWaitMs` | 2 | longest wait to fill a batch, in ms (DESIGN §3) |
 */
import { ConfigError } from './errors';
import { USER, allIn, isToken } from '../../sip-gateway/src/sip/chars';
import { type SipUri, parseUri, uriParam } from '../../sip-gateway/src/sip/uri';

/** Digest credentials for the mid-registrar's own REGISTERs (CFG-3, DRG-11). */
export interface UpstreamAuth {
  username: string;
  password: string;
  /** Answer only challenges of this realm; absent: any realm. */
  realm?: string;
}

/** A listening socket (CFG-4). */
export interface ListenSocket {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

/** The validated, frozen configuration. See the module table for keys, defaults and units. */
export interface MidRegistrarConfig {
  readonly mode: 0 | 1 | 2;
  readonly upstreamUri: string;
  readonly upstreamOutboundProxy?: string;
  readonly trustedUpstreamSources: readonly string[];
  readonly advertisedUri: string;
  readonly insertion: 'contact' | 'path';
  readonly contactIdIn: 'param' | 'user';
  readonly contactIdParam: string;
  readonly atEscape: string;
  readonly outgoingExpiresSec: number;
  readonly minExpiresSec: number;
  readonly maxExpiresSec: number;
  readonly defaultExpiresSec: number;
  readonly tooBrief: 'clamp' | 'reject';
  readonly maxContacts: number;
  readonly forceRegistration: boolean;
  readonly absorbRequiresSameCallId: boolean;
  readonly trustNewContacts: boolean;
  readonly allowDupCseq: boolean;
  readonly cseqDelayMs: number;
  readonly refreshMarginMs: number;
  readonly upstreamTimeoutMs: number;
  readonly deregisterBoundMs: number;
  readonly retryMaxAttempts: number;
  readonly retryBackoffBaseMs: number;
  readonly retryBackoffMaxMs: number;
  readonly retryAfterMs: number;
  readonly pathMode: 'off' | 'lazy' | 'strict';
  readonly upstreamAuth?: Readonly<UpstreamAuth>;
  readonly maxUsernameLength: number;
  readonly maxDomainLength: number;
  readonly maxAorLength: number;
  readonly maxContactLength: number;
  readonly maxMessageSize: number;
  readonly inviteTimeoutMs: number;
  readonly tokenSecret?: string;
  readonly listen: readonly Readonly<ListenSocket>[];
  readonly dataDir: string;
  readonly healthPort: number;
  readonly shardCount: number;
  readonly decisionBatchMax: number;
  readonly decisionBatchWaitMs: number;
}

/** Largest SIP expiry (REG-3: values above become 2^32 − 1). */
export const MAX_EXPIRES_SEC = 2 ** 32 - 1;

type Json = Record<string, unknown>;

const KNOWN_KEYS = new Set([
  'mode', 'upstreamUri', 'upstreamOutboundProxy', 'trustedUpstreamSources', 'advertisedUri', 'insertion',
  'contactIdIn', 'contactIdParam', 'atEscape', 'outgoingExpires', 'minExpires', 'maxExpires', 'defaultExpires',
  'tooBrief', 'maxContacts', 'forceRegistration', 'absorbRequiresSameCallId', 'trustNewContacts', 'allowDupCseq',
  'cseqDelay', 'refreshMargin', 'upstreamTimeout', 'deregisterBound', 'retryMaxAttempts', 'retryBackoffBase',
  'retryBackoffMax', 'retryAfter', 'pathMode', 'upstreamAuth', 'maxUsernameLength', 'maxDomainLength',
  'maxAorLength', 'maxContactLength', 'maxMessageSize', 'inviteTimeout', 'tokenSecret', 'listen', 'dataDir',
  'healthPort', 'shardCount', 'decisionBatchMax', 'decisionBatchWaitMs',
]);

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function integer(raw: Json, key: string, fallback: number, min: number, max: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ConfigError(key, `must be an integer (got ${describe(value)})`);
  }
  if (value < min) throw new ConfigError(key, min === 0 ? `must not be negative (got ${value})` : `must be at least ${min} (got ${value})`);
  if (value > max) throw new ConfigError(key, `must be at most ${max} (got ${value})`);
  return value;
}

/** A CFG-4 duration: integer seconds in JSON, milliseconds in the result. */
function durationMs(raw: Json, key: string, fallbackSec: number): number {
  return integer(raw, key, fallbackSec, 0, 2 ** 31) * 1000;
}

function boolean(raw: Json, key: string, fallback: boolean): boolean {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'boolean') throw new ConfigError(key, `must be true or false (got ${describe(value)})`);
  return value;
}

function choice<T extends string | number>(raw: Json, key: string, fallback: T, allowed: readonly T[]): T {
  const value = raw[key] ?? fallback;
  if (!allowed.includes(value as T)) {
    throw new ConfigError(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (got ${describe(value)})`);
  }
  return value as T;
}

function text(raw: Json, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(key, `must be a non-empty string (got ${describe(value)})`);
  return value;
}

function sipUri(key: string, value: string): SipUri {
  try {
    return parseUri(value);
  } catch {
    throw new ConfigError(key, `must be a SIP URI (got ${describe(value)})`);
  }
}

/** `host:port[;transport=x]` → validated by reading it as the SIP URI `sip:host:port[;transport=x]`. */
function hostPort(key: string, value: string): SipUri {
  let uri: SipUri | undefined;
  try {
    uri = parseUri(`sip:${value}`);
  } catch {
    uri = undefined;
  }
  const onlyTransport = uri !== undefined && uri.params.every((p) => p.name.toLowerCase() === 'transport');
  if (uri === undefined || uri.user !== undefined || uri.headers !== undefined || !onlyTransport) {
    throw new ConfigError(key, `must be host:port[;transport=x] (got ${describe(value)})`);
  }
  return uri;
}

/** The address part of a URI host (IPv6 without brackets), as trustedUpstreamSources entries name it. */
function hostAddress(uri: SipUri): string {
  return uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
}

function stringList(raw: Json, key: string): string[] | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new ConfigError(key, `must be an array of non-empty strings (got ${describe(value)})`);
  }
  return value as string[];
}

const LISTEN_PATTERN = /^(udp|tcp|tls):(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/;

function listenSockets(raw: Json): ListenSocket[] {
  const entries = stringList(raw, 'listen') ?? ['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060'];
  if (entries.length === 0) throw new ConfigError('listen', 'must name at least one socket');
  return entries.map((entry) => {
    const match = LISTEN_PATTERN.exec(entry);
    const port = match === null ? -1 : Number(match[3]);
    if (match === null || port > 65535) {
      throw new ConfigError('listen', `entries must be udp:host:port, tcp:host:port or tls:host:port (got ${describe(entry)})`);
    }
    return Object.freeze({ transport: match[1] as ListenSocket['transport'], host: match[2], port });
  });
}

function upstreamAuth(raw: Json): UpstreamAuth | undefined {
  const value = raw.upstreamAuth;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('upstreamAuth', `must be an object { username, password, realm? } (got ${describe(value)})`);
  }
  const auth = value as Json;
  for (const key of Object.keys(auth)) {
    if (key !== 'username' && key !== 'password' && key !== 'realm') throw new ConfigError(`upstreamAuth.${key}`, 'unknown key');
  }
  const username = auth.username;
  const password = auth.password;
  if (typeof username !== 'string' || username.length === 0) throw new ConfigError('upstreamAuth.username', 'must be a non-empty string');
  if (typeof password !== 'string') throw new ConfigError('upstreamAuth.password', 'must be a string');
  if (auth.realm !== undefined && typeof auth.realm !== 'string') throw new ConfigError('upstreamAuth.realm', 'must be a string');
  return Object.freeze(auth.realm === undefined ? { username, password } : { username, password, realm: auth.realm as string });
}

function defaultAdvertisedUri(listen: readonly ListenSocket[]): string {
  const first = listen[0];
  return first.transport === 'udp' ? `sip:${first.host}:${first.port}` : `sip:${first.host}:${first.port};transport=${first.transport}`;
}

/**
 * Parses and validates a configuration object (CFG-1, CFG-2, CFG-4).
 *
 * @param raw the parsed JSON of the configuration file (or the CDK context value).
 * @returns the frozen configuration with defaults applied.
 * @throws ConfigError naming the first offending key.
 * @example
 * ```ts
 * const config = parseConfig({ upstreamUri: 'sip:registrar.example.net', cseqDelay: 20 });
 * config.cseqDelayMs; // 20000
 * ```
 */
export function parseConfig(raw: unknown): MidRegistrarConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('(root)', `the configuration must be a JSON object (got ${describe(raw)})`);
  }
  const json = raw as Json;
  for (const key of Object.keys(json)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(key, 'unknown key');
  }

  const mode = choice<0 | 1 | 2>(json, 'mode', 1, [0, 1, 2]);
  const upstreamUri = text(json, 'upstreamUri');
  if (upstreamUri === undefined) throw new ConfigError('upstreamUri', 'is required');
  const upstream = sipUri('upstreamUri', upstreamUri);
  const upstreamOutboundProxy = text(json, 'upstreamOutboundProxy');
  const proxy = upstreamOutboundProxy === undefined ? undefined : hostPort('upstreamOutboundProxy', upstreamOutboundProxy);
  // CFG-1: the addresses (not ports: TCP requests come from ephemeral ports) of upstream and its proxy.
  const trustedUpstreamSources = stringList(json, 'trustedUpstreamSources') ??
    [...new Set([hostAddress(upstream), ...(proxy === undefined ? [] : [hostAddress(proxy)])])];

  const listen = listenSockets(json);
  const advertisedUri = text(json, 'advertisedUri') ?? defaultAdvertisedUri(listen);
  const advertised = sipUri('advertisedUri', advertisedUri);
  if (advertised.user !== undefined || uriParam(advertised, 'lr') !== undefined) {
    throw new ConfigError('advertisedUri', `must be sip:host:port[;transport=x] without user part (got ${describe(advertisedUri)})`);
  }

  const insertion = choice(json, 'insertion', 'contact', ['contact', 'path'] as const);
  // CFG-2: path insertion cannot name one upstream registration per AoR (FWD-5 is modes 0 and 1 only).
  if (insertion === 'path' && mode === 2) throw new ConfigError('insertion', '"path" is not available in mode 2');
  const contactIdIn = choice(json, 'contactIdIn', 'param', ['param', 'user'] as const);
  const contactIdParam = text(json, 'contactIdParam') ?? 'ctid';
  if (!isToken(contactIdParam)) throw new ConfigError('contactIdParam', `must be a token (got ${describe(contactIdParam)})`);
  const atEscape = json.atEscape ?? '%40';
  if (typeof atEscape !== 'string' || atEscape.length === 0 || !allIn(USER, atEscape)) {
    throw new ConfigError('atEscape', `must be non-empty and safe in a URI user part (got ${describe(atEscape)})`);
  }

  const outgoingExpiresSec = integer(json, 'outgoingExpires', 3600, 0, MAX_EXPIRES_SEC);
  const minExpiresSec = integer(json, 'minExpires', 10, 0, MAX_EXPIRES_SEC);
  const maxExpiresSec = integer(json, 'maxExpires', 3600, 0, MAX_EXPIRES_SEC);
  const defaultExpiresSec = integer(json, 'defaultExpires', 3600, 0, MAX_EXPIRES_SEC);
  const refreshMarginMs = durationMs(json, 'refreshMargin', 32);
  if (minExpiresSec > 0 && maxExpiresSec > 0 && minExpiresSec > maxExpiresSec) {
    throw new ConfigError('minExpires', `must not exceed maxExpires (${minExpiresSec} > ${maxExpiresSec})`);
  }
  if (defaultExpiresSec === 0) throw new ConfigError('defaultExpires', 'must not be 0');
  if ((minExpiresSec > 0 && defaultExpiresSec < minExpiresSec) || (maxExpiresSec > 0 && defaultExpiresSec > maxExpiresSec)) {
    throw new ConfigError('defaultExpires', `must lie within minExpires..maxExpires (got ${defaultExpiresSec})`);
  }
  // CFG-2: with O ≤ m no absorb window exists and a proactive refresh would be due at once (M1-3, DRG-8).
  if (outgoingExpiresSec * 1000 <= refreshMarginMs) {
    throw new ConfigError('outgoingExpires', `must exceed refreshMargin (${outgoingExpiresSec} ≤ ${refreshMarginMs / 1000})`);
  }

  const config: MidRegistrarConfig = {
    mode,
    upstreamUri,
    ...(upstreamOutboundProxy === undefined ? {} : { upstreamOutboundProxy }),
    trustedUpstreamSources: Object.freeze([...trustedUpstreamSources]),
    advertisedUri,
    insertion,
    contactIdIn,
    contactIdParam,
    atEscape,
    outgoingExpiresSec,
    minExpiresSec,
    maxExpiresSec,
    defaultExpiresSec,
    tooBrief: choice(json, 'tooBrief', 'clamp', ['clamp', 'reject'] as const),
    maxContacts: integer(json, 'maxContacts', 0, 0, 2 ** 31),
    forceRegistration: boolean(json, 'forceRegistration', false),
    absorbRequiresSameCallId: boolean(json, 'absorbRequiresSameCallId', true),
    trustNewContacts: boolean(json, 'trustNewContacts', false),
    allowDupCseq: boolean(json, 'allowDupCseq', true),
    cseqDelayMs: durationMs(json, 'cseqDelay', 20),
    refreshMarginMs,
    upstreamTimeoutMs: durationMs(json, 'upstreamTimeout', 10),
    deregisterBoundMs: durationMs(json, 'deregisterBound', 30),
    retryMaxAttempts: integer(json, 'retryMaxAttempts', 5, 1, 1000),
    retryBackoffBaseMs: durationMs(json, 'retryBackoffBase', 5),
    retryBackoffMaxMs: durationMs(json, 'retryBackoffMax', 300),
    retryAfterMs: durationMs(json, 'retryAfter', 30),
    pathMode: choice(json, 'pathMode', 'lazy', ['off', 'lazy', 'strict'] as const),
    ...optional('upstreamAuth', upstreamAuth(json)),
    maxUsernameLength: integer(json, 'maxUsernameLength', 64, 1, 65535),
    maxDomainLength: integer(json, 'maxDomainLength', 64, 1, 65535),
    maxAorLength: integer(json, 'maxAorLength', 256, 3, 65535),
    maxContactLength: integer(json, 'maxContactLength', 255, 1, 65535),
    maxMessageSize: integer(json, 'maxMessageSize', 65535, 1024, 2 ** 24),
    inviteTimeoutMs: durationMs(json, 'inviteTimeout', 180),
    ...optional('tokenSecret', text(json, 'tokenSecret')),
    listen: Object.freeze(listen),
    dataDir: text(json, 'dataDir') ?? './data',
    healthPort: integer(json, 'healthPort', 8080, 0, 65535),
    shardCount: integer(json, 'shardCount', 16, 1, 4096),
    decisionBatchMax: integer(json, 'decisionBatchMax', 10, 1, 1000),
    decisionBatchWaitMs: integer(json, 'decisionBatchWaitMs', 2, 0, 10_000),
  };
  return Object.freeze(config);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
