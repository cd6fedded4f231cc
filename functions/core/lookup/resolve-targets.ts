/**
 * LKP-3..5: from a resolved key and the AoR record to the branch targets, or 404/480.
 */
import type { LookupDecision, LocalResponse, LookupTarget } from '../contract';
import { REGISTRAR_ERRORS, registrarErrorResponse } from '../errors';
import { type AorRecord, type Binding, isIncarnationOpen, validBindings } from '../model';
import { parseUri, urisEqual, type SipUri } from '../../../sip-gateway/src/sip/uri';
import type { LookupConfig, LookupKey } from './resolve-lookup-key';

/** The store keys {@link resolveTargets} handles; the others are answered without reading state. */
export type StoreLookupKey = Extract<LookupKey, { kind: 'contact-id' | 'aor' | 'path-token' }>;

/** Outcome of {@link resolveTargets}. */
export type TargetResolution =
  /** Fork groups in descending q, each in parallel (LKP-5); one group of one target in modes 0/1. */
  | { kind: 'targets'; groups: LookupTarget[][]; removeTopRoute: boolean }
  /** LKP-3: 404 when nothing is retained, 480 when the record is retained but no matching binding is valid. */
  | { kind: 'reject'; error: 'notFound' | 'noValidBinding' };

function tryParseUri(text: string): SipUri | undefined {
  try {
    return parseUri(text);
  } catch {
    return undefined;
  }
}

/** LKP-5: no q means 1.0. */
function qValue(binding: Binding): number {
  if (binding.q === undefined) return 1;
  const q = Number(binding.q);
  return Number.isFinite(q) ? q : 1;
}

/** LKP-4: Request-URI = the original contact, Route set = the stored Path, over the binding's current flow (PTH-7). */
function targetOf(aor: string, binding: Binding): LookupTarget {
  const target: LookupTarget = {
    requestUri: binding.contactUri,
    routeSet: [...binding.path],
    flow: binding.flow,
    gatewayId: binding.flow.gatewayId,
    aor,
    contactId: binding.contactId,
  };
  if (binding.q !== undefined) target.q = binding.q;
  return target;
}

/** LKP-5: groups of equal q in descending order; bindings keep their creation order inside a group. */
function groupByQ(aor: string, bindings: readonly Binding[]): LookupTarget[][] {
  const byQ = new Map<number, Binding[]>();
  for (const binding of bindings) {
    const q = qValue(binding);
    byQ.set(q, [...(byQ.get(q) ?? []), binding]);
  }
  return [...byQ.entries()].sort(([a], [b]) => b - a).map(([, group]) => group.map((binding) => targetOf(aor, binding)));
}

/** The valid bindings the key selects (GEN-3: expired bindings never, purged or not, LKP-3). */
function selectBindings(key: StoreLookupKey, record: AorRecord, nowMs: number): Binding[] {
  const valid = validBindings(record, nowMs);
  switch (key.kind) {
    case 'contact-id':
      return valid.filter((binding) => binding.contactId === key.contactId);
    case 'path-token': {
      // LKP-2 path insertion: the Request-URI selects the binding by RFC 3261 §19.1.4 equality (REG-5).
      const requestUri = tryParseUri(key.requestUri);
      if (requestUri === undefined) return [];
      return valid.filter((binding) => {
        const contact = tryParseUri(binding.contactUri);
        return contact !== undefined && urisEqual(contact, requestUri);
      });
    }
    case 'aor': {
      // LKP-2 mode 2: a contactIdParam must name the open incarnation; an old one's contact is gone.
      const incarnation = record.incarnation;
      if (key.incarnationId !== undefined && (incarnation?.id !== key.incarnationId || !isIncarnationOpen(record, nowMs))) {
        return [];
      }
      return valid;
    }
  }
}

/**
 * Resolves a store key against the AoR record read for it (SPEC LKP-2..5).
 *
 * @param record the AoR record the key resolved to, or undefined when nothing is retained.
 * @example
 * ```ts
 * const result = resolveTargets(config, key, await store.get(key.aor), request.receivedAtMs);
 * ```
 */
export function resolveTargets(
  config: Pick<LookupConfig, 'mode'>,
  key: StoreLookupKey,
  record: AorRecord | undefined,
  nowMs: number,
): TargetResolution {
  if (record === undefined) return { kind: 'reject', error: 'notFound' };
  const bindings = selectBindings(key, record, nowMs);
  if (bindings.length === 0) return { kind: 'reject', error: 'noValidBinding' };
  // Modes 0/1 name one binding (contact id, or the one URI-equal binding, REG-5); mode 2 forks (LKP-5).
  const groups = config.mode === 2 ? groupByQ(record.aor, bindings) : [[targetOf(record.aor, bindings[0])]];
  return { kind: 'targets', groups, removeTopRoute: key.removeTopRoute };
}

/**
 * Turns a lookup key or a target resolution into the contract's {@link LookupDecision} (ERR-1, ERR-6).
 *
 * @param toTag To tag for a local response.
 * @param retryAfterMs `retryAfter` (ERR-2; lookup answers carry no 5xx, kept for one builder).
 */
export function toLookupDecision(
  outcome: TargetResolution | Extract<LookupKey, { kind: 'options-ok' | 'reject' | 'relay-upstream' }>,
  toTag: string,
  retryAfterMs: number,
): LookupDecision {
  switch (outcome.kind) {
    case 'targets':
      return { kind: 'targets', groups: outcome.groups, removeTopRoute: outcome.removeTopRoute };
    case 'relay-upstream':
      return { kind: 'relay-upstream' };
    case 'options-ok': {
      const response: LocalResponse = { status: 200, reason: 'OK', headers: [], toTag };
      return { kind: 'respond', response };
    }
    case 'reject':
      return { kind: 'respond', response: registrarErrorResponse(REGISTRAR_ERRORS[outcome.error], retryAfterMs, toTag) };
  }
}
