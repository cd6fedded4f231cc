/**
 * HTTP Digest answers for the mid-registrar's own REGISTERs (SPEC DRG-11, CFG-3; RFC 3261 §22.4,
 * RFC 2617, RFC 7616, RFC 8760 for SIP).
 *
 * @remarks
 * Pure: hashing only (node:crypto createHash). The cnonce comes from the caller's injected generator.
 */
import { createHash } from 'node:crypto';

/** A parsed `Digest` challenge (WWW-Authenticate / Proxy-Authenticate value). */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** As sent (`MD5`, `MD5-sess`, `SHA-256`, `SHA-256-sess`, …); absent means MD5 (RFC 2617 §3.2.1). */
  algorithm?: string;
  /** The qop options offered, lower-cased. */
  qop: string[];
}

/** Credentials (`upstreamAuth`, CFG-1). */
export interface DigestCredentials {
  username: string;
  password: string;
}

/** What the answer covers. */
export interface DigestRequest {
  method: string;
  /** digest-uri: the Request-URI (RFC 3261 §22.4). */
  uri: string;
  /** Client nonce (hex or any token), fresh per answer. */
  cnonce: string;
  /** Nonce count; 1 for the first use of a nonce. */
  nonceCount: number;
}

const HASHES: Record<string, string> = { 'md5': 'md5', 'sha-256': 'sha256', 'sha-512-256': 'sha512-256' };

function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const pattern = /\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*,?/gy;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const value = match[3] !== undefined ? match[3].replace(/\\(.)/g, '$1') : match[2];
    params.set(match[1].toLowerCase(), value);
  }
  return params;
}

/**
 * Parses a Digest challenge.
 *
 * @returns the challenge, or undefined if it is not Digest or lacks realm or nonce.
 * @example
 * ```ts
 * parseDigestChallenge('Digest realm="example.net", nonce="abc", qop="auth,auth-int"');
 * ```
 */
export function parseDigestChallenge(value: string): DigestChallenge | undefined {
  const trimmed = value.trim();
  const scheme = /^digest\s+/i.exec(trimmed);
  if (scheme === null) return undefined;
  const params = parseParams(trimmed.slice(scheme[0].length));
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const challenge: DigestChallenge = {
    realm,
    nonce,
    qop: (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q.length > 0),
  };
  const opaque = params.get('opaque');
  const algorithm = params.get('algorithm');
  if (opaque !== undefined) challenge.opaque = opaque;
  if (algorithm !== undefined) challenge.algorithm = algorithm;
  return challenge;
}

function quoted(text: string): string {
  return `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * Computes the Authorization / Proxy-Authorization value answering `challenge` (RFC 7616 §3.4.1):
 * qop `auth` when offered (else `auth-int` over an empty body), or the RFC 2069 form without qop.
 *
 * @returns the header value, or undefined for an algorithm we do not implement.
 * @example
 * ```ts
 * digestAuthorization(challenge, { username: 'mr', password: 's3cret' },
 *   { method: 'REGISTER', uri: 'sip:registrar.example.net', cnonce: '0a4f113b', nonceCount: 1 });
 * // 'Digest username="mr", realm="example.net", nonce="abc", uri="sip:registrar.example.net", response="…", …'
 * ```
 */
export function digestAuthorization(
  challenge: DigestChallenge,
  credentials: DigestCredentials,
  request: DigestRequest,
): string | undefined {
  const algorithm = challenge.algorithm ?? 'MD5';
  const lower = algorithm.toLowerCase();
  const session = lower.endsWith('-sess');
  const hashName = HASHES[session ? lower.slice(0, -'-sess'.length) : lower];
  if (hashName === undefined) return undefined;
  const hash = (text: string): string => createHash(hashName).update(text, 'utf8').digest('hex');

  const qop = challenge.qop.includes('auth') ? 'auth' : challenge.qop.includes('auth-int') ? 'auth-int' : undefined;
  const nc = request.nonceCount.toString(16).padStart(8, '0');
  let ha1 = hash(`${credentials.username}:${challenge.realm}:${credentials.password}`);
  // RFC 7616 §3.4.2: the -sess variants bind A1 to this nonce and cnonce.
  if (session) ha1 = hash(`${ha1}:${challenge.nonce}:${request.cnonce}`);
  // RFC 7616 §3.4.3: auth-int covers the body; our REGISTERs have none.
  const ha2 = hash(qop === 'auth-int' ? `${request.method}:${request.uri}:${hash('')}` : `${request.method}:${request.uri}`);
  const response =
    qop === undefined
      ? hash(`${ha1}:${challenge.nonce}:${ha2}`)
      : hash(`${ha1}:${challenge.nonce}:${nc}:${request.cnonce}:${qop}:${ha2}`);

  const parts = [
    `username=${quoted(credentials.username)}`,
    `realm=${quoted(challenge.realm)}`,
    `nonce=${quoted(challenge.nonce)}`,
    `uri=${quoted(request.uri)}`,
    `response=${quoted(response)}`,
    `algorithm=${algorithm}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quoted(challenge.opaque)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quoted(request.cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}
