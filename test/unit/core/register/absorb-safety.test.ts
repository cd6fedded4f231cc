import fc from 'fast-check';
import { applyUpstreamReply } from '../../../../functions/core/reply/apply-upstream-reply';
import { decideRegister } from '../../../../functions/core/register/decide-register';
import { type AorRecord, bindingLapsesAtMs, isRelayLive, validBindings } from '../../../../functions/core/model';
import { registerRequest, testConfig, testIds, udpFlow, upstreamOk } from '../../../support/core-builders';

/** One REGISTER from one of three devices, and how upstream answers if it is relayed. */
interface Step {
  device: number;
  expiresSec: number;
  afterMs: number;
  sameCallId: boolean;
  grantSec: number;
  roundTripMs: number;
  upstream: 'ok' | 'reject' | 'timeout';
}

// Focused on the absorb boundary: refreshes every few tens of seconds, grants near e + m, so
// `now + (e + m)·1000` often lands just either side of U.
const step = fc.record<Step>({
  device: fc.integer({ min: 0, max: 2 }),
  expiresSec: fc.constantFrom(0, 30, 60, 60, 120),
  afterMs: fc.integer({ min: 0, max: 150_000 }),
  sameCallId: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  grantSec: fc.integer({ min: 0, max: 300 }),
  roundTripMs: fc.integer({ min: 0, max: 3000 }),
  upstream: fc.constantFrom('ok', 'ok', 'ok', 'reject', 'timeout'),
});

const devices = ['<sip:alice@192.0.2.7:5062>', '<sip:alice@198.51.100.4>', '<sip:alice@203.0.113.50:5070>'];

describe('absorb safety (INV-1 by construction, GEN-3)', () => {
  it.each([1, 2] as const)('INV-1, M%s-3: an absorb never lets a binding outlive U − m, and an ended binding is never revived', (mode) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.array(step, { minLength: 1, maxLength: 40 }), (marginSec, steps) => {
        // Prepare
        const config = testConfig({ mode, refreshMargin: marginSec, outgoingExpires: 3600, minExpires: 0, maxExpires: 0, defaultExpires: 3600, trustNewContacts: mode === 2 && marginSec % 2 === 0 });
        const ids = testIds(marginSec);
        let record: AorRecord | undefined;
        let nowMs = 0;
        const cseqs = [0, 0, 0];
        const ended = new Set<string>();

        for (const s of steps) {
          nowMs += s.afterMs;
          cseqs[s.device] += 1;
          const request = registerRequest({
            contacts: [`${devices[s.device]};expires=${s.expiresSec}`],
            callId: s.sameCallId ? `dev${s.device}` : `dev${s.device}-${cseqs[s.device]}`,
            cseq: cseqs[s.device],
            flow: udpFlow({ remotePort: 5000 + s.device }),
            receivedAtMs: nowMs,
          });

          // Act
          const outcome = decideRegister(config, request, record, nowMs, ids);

          // Assess
          if (outcome.decision.kind === 'absorb' && outcome.nextRecord !== undefined) {
            const before = record?.bindings ?? [];
            record = outcome.nextRecord;
            for (const b of validBindings(record, nowMs)) {
              // Only what this absorb created or refreshed (unchanged bindings keep their object).
              if (before.includes(b)) continue;
              expect(b.expiresAtMs + config.refreshMarginMs).toBeLessThan(bindingLapsesAtMs(b, record)!);
            }
          } else if (outcome.decision.kind === 'forward') {
            const { relay, context } = outcome.decision;
            const arrivedAtMs = nowMs + s.roundTripMs;
            const upstreamOutcome = s.upstream === 'timeout'
              ? { kind: 'timeout' as const, atMs: nowMs + config.upstreamTimeoutMs }
              : s.upstream === 'reject'
                ? { kind: 'final' as const, status: 403, contacts: [], sentAtMs: nowMs, receivedAtMs: arrivedAtMs }
                : upstreamOk(relay, s.grantSec, { sentAtMs: nowMs, receivedAtMs: arrivedAtMs });
            const replyAtMs = upstreamOutcome.kind === 'final' ? upstreamOutcome.receivedAtMs : upstreamOutcome.atMs;
            const reply = applyUpstreamReply(config, context, upstreamOutcome, outcome.nextRecord, replyAtMs, ids);
            const before = outcome.nextRecord!.bindings;
            const committed = reply.nextRecord ?? outcome.nextRecord!;
            record = committed;
            nowMs = replyAtMs;
            // RPL-5: what the 2xx created or refreshed expires no later than the U it confirmed.
            for (const b of validBindings(committed, nowMs)) {
              if (!before.includes(b)) expect(b.expiresAtMs).toBeLessThanOrEqual(bindingLapsesAtMs(b, committed)!);
            }
          }

          // GEN-3: what ended stays ended.
          if (record !== undefined) {
            const current = record;
            for (const b of validBindings(current, nowMs)) expect(ended.has(b.contactId)).toBe(false);
            const named = new Set(current.pendingRelays.filter((r) => isRelayLive(r, nowMs)).flatMap((r) => r.contacts.map((c) => c.contactId)));
            const valid = new Set(validBindings(current, nowMs).map((b) => b.contactId));
            for (const b of current.bindings) if (!valid.has(b.contactId) && !named.has(b.contactId)) ended.add(b.contactId);
          }
        }
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });
});
