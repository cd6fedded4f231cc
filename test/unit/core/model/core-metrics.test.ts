import { CORE_METRICS } from '../../../../functions/core/core-metrics';
import { decideRegister } from '../../../../functions/core/register/decide-register';
import { applyUpstreamReply } from '../../../../functions/core/reply/apply-upstream-reply';
import { expectForward, registerRequest, testConfig, testIds } from '../../../support/core-builders';

describe('CORE_METRICS', () => {
  it('RPL-5: the event of a 2xx missing our contact is named CORE_METRICS.upstreamContactMissing, so the gateway can count it', () => {
    // Prepare
    const config = testConfig({ mode: 1 });
    const ids = testIds();
    const decided = decideRegister(config, registerRequest({ receivedAtMs: 1_000 }), undefined, 1_000, ids);
    const { context } = expectForward(decided);

    // Act
    const reply = applyUpstreamReply(config, context, { kind: 'final', status: 200, contacts: [], sentAtMs: 1_000, receivedAtMs: 1_040 }, decided.nextRecord, 1_040, ids);

    // Assess
    expect(reply.events.map((event) => event.kind)).toEqual([CORE_METRICS.upstreamContactMissing]);
  });

  it('RPL-1, RPL-5, DRG-6, DRG-9: the names on the wire are the SPEC metric names', () => {
    // Act / Assess
    expect(CORE_METRICS).toEqual({
      upstreamContactMissing: 'upstream_contact_missing',
      upstreamIntervalTooBrief: 'upstream_interval_too_brief',
      staleRelay: 'stale_relay',
      deregisterFailed: 'deregister_failed',
      upstreamRefreshFailed: 'upstream_refresh_failed',
    });
  });
});
