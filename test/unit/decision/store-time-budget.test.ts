import { StoreUnavailableError } from '../../../functions/store/errors';
import { ensureStoreTime, StoreBudgetExhaustedError } from '../../../sip-gateway/src/decision/store-time-budget';

describe('Function: ensureStoreTime', () => {
  it('ERR-5: a call whose worst case ends by the deadline may start; one that could end later is refused as a store failure', () => {
    // Prepare
    const budget = (nowMs: number) => ({ deadlineMs: 2_000, callBoundMs: 1_800, nowMs: () => nowMs });

    // Act
    const refused = (() => {
      try {
        ensureStoreTime(budget(201));
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(() => ensureStoreTime(budget(200))).not.toThrow();
    expect(() => ensureStoreTime(undefined)).not.toThrow();
    expect(refused).toBeInstanceOf(StoreBudgetExhaustedError);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).name).toBe('StoreBudgetExhaustedError');
  });
});
