/**
 * Errors of the binding store (functions/store). Adapters translate SDK and file-system failures
 * into these, as Powertools translates `ConditionalCheckFailedException` into a domain error, so the
 * callers never see an `@aws-sdk/*` type.
 *
 * How callers react:
 * - {@link VersionConflictError}: another decision committed first; re-read and re-decide (GEN-5).
 * - {@link ContactIdTakenError}: draw another random contact id (FWD-4).
 * - {@link StoreUnavailableError}: transient (throttling, timeout, network, server fault); answer
 *   503 with Retry-After (ERR-2, ERR-5) and commit nothing.
 * - {@link StoreFailureError}: not transient (bad request, missing table, access denied, corrupt
 *   data); also 503 per ERR-5 ("a store failure gives 503"), but worth an alarm.
 */

/** Base of every error the binding store throws. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** Transient store failure: throttling, timeout, network or server fault. Retrying later may succeed. */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Non-transient store failure: invalid request, missing table, denied access, corrupt data. */
export class StoreFailureError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreFailureError';
  }
}

/**
 * A conditional write lost a race: the stored version is not the expected one (GEN-5).
 * Nothing was written.
 */
export class VersionConflictError extends StoreError {
  /**
   * @param aor the AoR written
   * @param expectedVersion the version the writer read (0: it expected no record)
   * @param currentVersion the version stored now when the adapter could tell (undefined: unknown or absent)
   */
  constructor(
    readonly aor: string,
    readonly expectedVersion: number,
    readonly currentVersion: number | undefined,
    options?: ErrorOptions,
  ) {
    super(`version conflict on ${aor}: expected ${expectedVersion}, found ${currentVersion ?? 'unknown'}`, options);
    this.name = 'VersionConflictError';
  }
}

/** A contact id is already claimed by another AoR (FWD-4 uniqueness). Nothing was written. */
export class ContactIdTakenError extends StoreError {
  constructor(
    readonly contactId: string,
    options?: ErrorOptions,
  ) {
    super(`contact id ${contactId} is taken`, options);
    this.name = 'ContactIdTakenError';
  }
}
