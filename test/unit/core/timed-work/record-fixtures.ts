/**
 * Builders of AoR records for the lookup and timed-work unit tests.
 */
import { parseConfig, type MidRegistrarConfig } from '../../../../functions/core/config';
import type { AorRecord, Binding, Flow, PendingRelay, UpstreamRegistration } from '../../../../functions/core/model';

export const ADVERTISED = 'sip:203.0.113.10:5060';
export const UPSTREAM = 'sip:registrar.example.net';
export const AOR = 'alice@example.com';
export const SECRET = 'unit-test-token-secret';

/** A configuration with test defaults; `overrides` use the JSON keys of CFG-1 (durations in seconds). */
export function makeConfig(overrides: Record<string, unknown> = {}): MidRegistrarConfig {
  return parseConfig({
    upstreamUri: UPSTREAM,
    advertisedUri: ADVERTISED,
    trustedUpstreamSources: ['198.51.100.0/24'],
    tokenSecret: SECRET,
    ...overrides,
  });
}

export function makeFlow(overrides: Partial<Flow> = {}): Flow {
  return {
    transport: 'udp',
    remoteAddress: '192.0.2.7',
    remotePort: 5062,
    localAddress: '10.0.0.5',
    localPort: 5060,
    gatewayId: 'gw-1',
    ...overrides,
  };
}

export function makeUpstream(overrides: Partial<UpstreamRegistration> = {}): UpstreamRegistration {
  const sentAtMs = overrides.sentAtMs ?? 0;
  const grantedExpiresSec = overrides.grantedExpiresSec ?? 3600;
  return {
    requestUri: UPSTREAM,
    fromUri: `sip:${AOR}`,
    toUri: `sip:${AOR}`,
    callId: 'call-1',
    highestCseq: 7,
    contactUri: `sip:alice@203.0.113.10:5060;ctid=11`,
    relayedContactUri: `sip:alice@203.0.113.10:5060;ctid=11`,
    requestedExpiresSec: 3600,
    grantedExpiresSec,
    sentAtMs,
    lapsesAtMs: sentAtMs + grantedExpiresSec * 1000,
    ...overrides,
  };
}

export function makeBinding(overrides: Partial<Binding> = {}): Binding {
  return {
    contactId: '11',
    contactUri: 'sip:alice@192.0.2.7:5062',
    requestedExpiresSec: 60,
    expiresAtMs: 60_000,
    callId: 'call-1',
    cseq: 7,
    updatedAtMs: 0,
    createdAtMs: 0,
    flow: makeFlow(),
    path: [],
    ...overrides,
  };
}

export function makeRecord(overrides: Partial<AorRecord> = {}): AorRecord {
  return { aor: AOR, bindings: [], pendingRelays: [], deregisterWork: [], ...overrides };
}

export function makeRelay(overrides: Partial<PendingRelay> = {}): PendingRelay {
  return {
    relayId: 'r1',
    kind: 'contacts',
    mode: 1,
    createdAtMs: 0,
    deadlineAtMs: 10_000,
    requestUri: UPSTREAM,
    fromUri: `sip:${AOR}`,
    toUri: `sip:${AOR}`,
    callId: 'call-2',
    cseq: 1,
    contacts: [],
    flow: makeFlow(),
    path: [],
    echoPath: false,
    ...overrides,
  };
}
