/**
 * Errors of the CDK app. Each message is one line a user can act on; `cdk synth` prints it and exits.
 */

/** Base class of every error the CDK app throws on purpose. */
export class InfraError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/**
 * The deployment settings (context keys `regions`, `account`, `config`, `configFile`,
 * `upstreamAuthSecret`) or the product configuration inside them are invalid. The message names the key.
 */
export class DeploymentConfigError extends InfraError {
  /** The offending context key or configuration key, e.g. `regions` or `config.mode`. */
  readonly key: string;

  constructor(key: string, problem: string, options?: ErrorOptions) {
    super(`invalid deployment setting "${key}": ${problem}`, options);
    this.name = 'DeploymentConfigError';
    this.key = key;
  }
}
