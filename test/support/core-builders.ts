/**
 * Builders for decision-core tests: configuration, REGISTER essentials, records, a seeded id generator,
 * and a fake upstream that answers a relay with a 2xx granting a given expiry.
 */
import { type MidRegistrarConfig, parseConfig } from '../../functions/core/config';
import {
  CONTRACT_VERSION,
  type HeaderField,
  type LocalResponse,
  type RegisterReplyDecision,
  type RegisterRequest,
  type RelayContext,
  type RelayInstructions,
  type UpstreamOutcome,
} from '../../functions/core/contract';
import type { AorRecord, Binding, Flow, UpstreamRegistration } from '../../functions/core/model';
import { type IdGenerator, createIdGenerator, seededRandomBytes } from '../../functions/core/random';
import { type RegisterOutcome, decideRegister } from '../../functions/core/register/decide-register';
import { applyUpstreamReply } from '../../functions/core/reply/apply-upstream-reply';

/** Configuration with `upstreamUri`, `advertisedUri` and `tokenSecret` set, plus overrides (JSON keys). */
export function testConfig(overrides: Record<string, unknown> = {}): MidRegistrarConfig {
  return parseConfig({
    upstreamUri: 'sip:registrar.example.net',
    advertisedUri: 'sip:203.0.113.10:5060',
    tokenSecret: 'test-token-secret',
    ...overrides,
  });
}

/** A deterministic id generator. */
export function testIds(seed = 7): IdGenerator {
  return createIdGenerator(seededRandomBytes(seed));
}

/** A UDP flow from a device. */
export function udpFlow(overrides: Partial<Flow> = {}): Flow {
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

/** REGISTER essentials for alice@example.com with one contact, Call-ID c1, CSeq 1. */
export function registerRequest(overrides: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    version: CONTRACT_VERSION,
    requestUri: 'sip:example.com',
    from: '<sip:alice@example.com>;tag=f1',
    to: '<sip:alice@example.com>',
    contacts: ['<sip:alice@192.0.2.7:5062>'],
    callId: 'c1',
    cseq: 1,
    path: [],
    supported: [],
    hasAuthorization: false,
    flow: udpFlow(),
    receivedAtMs: 0,
    ...overrides,
  };
}

/** An upstream registration confirmed at `sentAtMs` with grant `grantedExpiresSec`. */
export function upstreamRegistration(overrides: Partial<UpstreamRegistration> = {}): UpstreamRegistration {
  const sentAtMs = overrides.sentAtMs ?? 0;
  const grantedExpiresSec = overrides.grantedExpiresSec ?? 3600;
  return {
    requestUri: 'sip:registrar.example.net',
    fromUri: 'sip:alice@example.com',
    toUri: 'sip:alice@example.com',
    callId: 'c1',
    highestCseq: 1,
    contactUri: 'sip:alice@203.0.113.10:5060;ctid=111',
    relayedContactUri: 'sip:alice@203.0.113.10:5060;ctid=111',
    requestedExpiresSec: 3600,
    grantedExpiresSec,
    sentAtMs,
    lapsesAtMs: sentAtMs + grantedExpiresSec * 1000,
    ...overrides,
  };
}

/** A mode 0/1 binding of alice's device 192.0.2.7:5062, id 111, with its own upstream registration. */
export function testBinding(overrides: Partial<Binding> = {}): Binding {
  return {
    contactId: '111',
    contactUri: 'sip:alice@192.0.2.7:5062',
    requestedExpiresSec: 60,
    expiresAtMs: 60_000,
    callId: 'c1',
    cseq: 1,
    updatedAtMs: 0,
    createdAtMs: 0,
    flow: udpFlow(),
    path: [],
    upstream: upstreamRegistration(),
    ...overrides,
  };
}

/** An AoR record for alice@example.com. */
export function testRecord(overrides: Partial<AorRecord> = {}): AorRecord {
  return { aor: 'alice@example.com', bindings: [], pendingRelays: [], deregisterWork: [], ...overrides };
}

/** The value of the first header `name` of a response or relay, or undefined. */
export function headerValue(headers: readonly HeaderField[], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/** Every value of header `name`. */
export function headerValues(headers: readonly HeaderField[], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/** The forward decision of an outcome, failing the test when it is not one. */
export function expectForward(outcome: RegisterOutcome): { relay: RelayInstructions; context: RelayContext } {
  if (outcome.decision.kind !== 'forward') {
    throw new Error(`expected forward, got ${outcome.decision.kind} ${JSON.stringify(outcome.decision)}`);
  }
  return outcome.decision;
}

/** The local response of an absorb or reject decision, failing the test otherwise. */
export function expectLocal(outcome: RegisterOutcome, kind: 'absorb' | 'reject'): LocalResponse {
  if (outcome.decision.kind !== kind) {
    throw new Error(`expected ${kind}, got ${outcome.decision.kind} ${JSON.stringify(outcome.decision)}`);
  }
  return (outcome.decision as { response: LocalResponse }).response;
}

/**
 * A fake upstream's 2xx to a relay: every relayed contact echoed with `;expires=<grantSec>`
 * (or `;expires=0` where we sent 0), as a registrar lists the bindings it now holds.
 */
export function upstreamOk(
  relay: RelayInstructions,
  grantSec: number,
  times: { sentAtMs: number; receivedAtMs: number },
  extraContacts: string[] = [],
): UpstreamOutcome {
  const contacts = headerValues(relay.addHeaders, 'Contact')
    .filter((c) => !/;expires=0$/.test(c))
    .map((c) => c.replace(/;expires=\d+$/, `;expires=${grantSec}`));
  return { kind: 'final', status: 200, contacts: [...contacts, ...extraContacts], sentAtMs: times.sentAtMs, receivedAtMs: times.receivedAtMs };
}

/**
 * Relays `request` and commits upstream's 2xx granting `grantSec`: the record a relayed REGISTER
 * leaves once confirmed. Fails the test when the REGISTER is not relayed or the 2xx does not commit.
 */
export function registerThroughUpstream(
  config: MidRegistrarConfig,
  record: AorRecord | undefined,
  request: RegisterRequest,
  times: { sentAtMs?: number; receivedAtMs: number; grantSec: number },
  ids: IdGenerator = testIds(),
): { record: AorRecord; relay: RelayInstructions; response: RegisterReplyDecision } {
  const decided = decideRegister(config, request, record, request.receivedAtMs, ids);
  const { relay, context } = expectForward(decided);
  const reply = applyUpstreamReply(
    config,
    context,
    upstreamOk(relay, times.grantSec, { sentAtMs: times.sentAtMs ?? request.receivedAtMs, receivedAtMs: times.receivedAtMs }),
    decided.nextRecord,
    times.receivedAtMs,
    ids,
  );
  if (reply.nextRecord === undefined) throw new Error(`2xx did not commit: ${JSON.stringify(reply.decision)}`);
  return { record: reply.nextRecord, relay, response: reply.decision };
}
