import { RECORD_TTL_GRACE_SEC, recordTtlEpochSec } from '../../../functions/handlers/record-ttl';
import { makeBinding, makeConfig, makeRecord, makeRelay, makeUpstream } from '../core/timed-work/record-fixtures';

describe('Function: recordTtlEpochSec', () => {
  const config = makeConfig();

  it('GEN-3: keeps a record until its latest upstream lapse plus the grace, not just its local expiry', () => {
    // Prepare: local expiry at 60 s, upstream lapses at 3,600 s.
    const record = makeRecord({ bindings: [makeBinding({ expiresAtMs: 60_000, upstream: makeUpstream({ sentAtMs: 0, grantedExpiresSec: 3600 }) })] });

    // Act
    const ttl = recordTtlEpochSec(config, record, 1_000);

    // Assess
    expect(ttl).toBe(3600 + RECORD_TTL_GRACE_SEC);
  });

  it('GEN-7: covers a pending relay deadline later than every binding', () => {
    // Prepare
    const record = makeRecord({ pendingRelays: [makeRelay({ deadlineAtMs: 9_000_500 })] });

    // Act
    const ttl = recordTtlEpochSec(config, record, 1_000);

    // Assess
    expect(ttl).toBe(9_001 + RECORD_TTL_GRACE_SEC);
  });

  it('never lies before now plus the grace', () => {
    // Act
    const ttl = recordTtlEpochSec(config, makeRecord(), 5_000_000);

    // Assess
    expect(ttl).toBe(5_000 + RECORD_TTL_GRACE_SEC);
  });
});
