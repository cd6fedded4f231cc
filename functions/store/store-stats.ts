/**
 * Call and capacity counters of a binding store, so a benchmark can report the cost of each REGISTER
 * (DESIGN §8: DynamoDB read and write units per REGISTER → monthly cost at 500k subscribers).
 */

/** Counters since the last reset. Capacity units are reported by the DynamoDB adapter only. */
export interface StoreStats {
  /** Read requests: GetItem, each BatchGetItem request (retries included), each Query page. */
  reads: number;
  /** Write requests: PutItem and DeleteItem, failed conditional ones included. */
  writes: number;
  /** Items returned by reads. */
  itemsRead: number;
  /** Read capacity units consumed (ReturnConsumedCapacity TOTAL); 0 where unknown. */
  readCapacityUnits: number;
  /** Write capacity units consumed; failed conditional writes are billed but not reported, so not counted. */
  writeCapacityUnits: number;
  /** Conditional writes that lost (VersionConflictError, ContactIdTakenError). */
  conflicts: number;
  /** Calls that failed with StoreUnavailableError or StoreFailureError. */
  failures: number;
}

/**
 * Mutable counters behind {@link StoreStats}. Hot paths increment the fields directly
 * (`counters.writes += 1`): unlike {@link StoreStatsCounter.add}, that allocates no delta object.
 */
export class StoreStatsCounter implements StoreStats {
  reads = 0;
  writes = 0;
  itemsRead = 0;
  readCapacityUnits = 0;
  writeCapacityUnits = 0;
  conflicts = 0;
  failures = 0;

  /** Adds `delta` to the counters. */
  add(delta: Partial<StoreStats>): void {
    this.reads += delta.reads ?? 0;
    this.writes += delta.writes ?? 0;
    this.itemsRead += delta.itemsRead ?? 0;
    this.readCapacityUnits += delta.readCapacityUnits ?? 0;
    this.writeCapacityUnits += delta.writeCapacityUnits ?? 0;
    this.conflicts += delta.conflicts ?? 0;
    this.failures += delta.failures ?? 0;
  }

  /** A copy of the counters. */
  snapshot(): StoreStats {
    return {
      reads: this.reads,
      writes: this.writes,
      itemsRead: this.itemsRead,
      readCapacityUnits: this.readCapacityUnits,
      writeCapacityUnits: this.writeCapacityUnits,
      conflicts: this.conflicts,
      failures: this.failures,
    };
  }

  reset(): void {
    this.reads = 0;
    this.writes = 0;
    this.itemsRead = 0;
    this.readCapacityUnits = 0;
    this.writeCapacityUnits = 0;
    this.conflicts = 0;
    this.failures = 0;
  }
}
