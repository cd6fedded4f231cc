/**
 * Errors of the transaction layer. They are thrown only for programmer errors (bad configuration, a request
 * the layer cannot run a transaction for); protocol events such as timeouts reach the TU as callbacks.
 */

/** Base class of every error the transaction layer throws. */
export class TransactionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransactionError';
  }
}

/** A timer or lifetime setting that cannot work (non-positive, or T2 below T1). */
export class InvalidTimerSettingsError extends TransactionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidTimerSettingsError';
  }
}

/**
 * A request the layer refuses to start a client transaction for: an ACK (never a transaction, §17.1.1.3),
 * a top Via branch without the RFC 3261 magic cookie (§8.1.1.7), or a branch already in use (§17.1.3).
 */
export class InvalidTransactionRequestError extends TransactionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidTransactionRequestError';
  }
}
