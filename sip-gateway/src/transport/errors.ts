/**
 * Errors of the transport layer.
 */

/** Base class of every transport error. */
export class TransportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** A message could not be sent: no socket for the transport, connection refused or timed out. */
export class TransportSendError extends TransportError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransportSendError';
  }
}
