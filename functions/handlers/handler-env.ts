/**
 * The decision functions' environment, read once at cold start (fail fast): the product configuration
 * and the bindings table. Variable names match the CDK stack (infra/lib/stacks/mid-registrar-stack.ts
 * `ENV`); Powertools reads its own `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`.
 */
import { parseConfig, type MidRegistrarConfig } from '../core/config';

/** Environment variable names read here. */
export const HANDLER_ENV = {
  /** The product configuration (SPEC CFG keys) as JSON. */
  config: 'MID_REGISTRAR_CONFIG',
  /** The bindings table name. */
  tableName: 'BINDINGS_TABLE_NAME',
} as const;

/** What the handlers need from the environment. */
export interface HandlerEnv {
  readonly config: MidRegistrarConfig;
  readonly tableName: string;
}

/** A missing or invalid environment variable; the function fails at cold start. */
export class HandlerEnvError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HandlerEnvError';
  }
}

/**
 * Reads and validates the environment.
 *
 * @throws HandlerEnvError naming the variable; a ConfigError from `parseConfig` is its cause
 * @example
 * ```ts
 * const env = readHandlerEnv(process.env); // module scope
 * ```
 */
export function readHandlerEnv(env: NodeJS.ProcessEnv): HandlerEnv {
  const tableName = env[HANDLER_ENV.tableName];
  if (tableName === undefined || tableName === '') throw new HandlerEnvError(`${HANDLER_ENV.tableName} is not set`);
  const configText = env[HANDLER_ENV.config];
  if (configText === undefined || configText === '') throw new HandlerEnvError(`${HANDLER_ENV.config} is not set`);
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch (err) {
    throw new HandlerEnvError(`${HANDLER_ENV.config} is not valid JSON`, { cause: err });
  }
  try {
    return Object.freeze({ config: parseConfig(raw), tableName });
  } catch (err) {
    throw new HandlerEnvError(`${HANDLER_ENV.config}: ${(err as Error).message}`, { cause: err });
  }
}
