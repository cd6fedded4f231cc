/**
 * REG-11: the contact limit, and eviction at commit with `forceRegistration`.
 */
import type { MidRegistrarConfig } from '../config';
import { type AorRecord, validBindings, withBindings } from '../model';

/**
 * Ends the least recently updated valid bindings not named by the committing REGISTER while the AoR
 * holds more than `maxContacts` valid bindings (REG-11, applied at every commit, so concurrent
 * REGISTERs that overshoot evict the same way; Δ OpenSIPS wipes the whole AoR).
 *
 * Mode 1 keeps the evicted binding, ended with `endReason: 'evicted'`, so the timed work De-REGISTERs
 * its upstream contact (DRG-1). Mode 0 never De-REGISTERs (M0-1) and a mode 2 binding has no upstream
 * registration of its own (M2-1), so there it is deleted at once.
 *
 * @param namedContactIds bindings the REGISTER names: never evicted by it.
 * @returns the record with evictions applied (the same object when nothing was evicted).
 */
export function evictOverLimit(
  config: MidRegistrarConfig,
  record: AorRecord,
  namedContactIds: ReadonlySet<string>,
  nowMs: number,
): AorRecord {
  if (config.maxContacts === 0) return record;
  const valid = validBindings(record, nowMs);
  const excess = valid.length - config.maxContacts;
  if (excess <= 0) return record;
  const victims = new Set(
    valid
      .filter((b) => !namedContactIds.has(b.contactId))
      .sort((a, b) => a.updatedAtMs - b.updatedAtMs)
      .slice(0, excess)
      .map((b) => b.contactId),
  );
  const bindings = config.mode === 1
    ? record.bindings.map((b) => (victims.has(b.contactId) ? { ...b, endedAtMs: nowMs, endReason: 'evicted' as const } : b))
    : record.bindings.filter((b) => !victims.has(b.contactId));
  return withBindings(record, bindings);
}
