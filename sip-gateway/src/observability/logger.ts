/**
 * Logger factory for the gateway: pino, one JSON object per line, level from configuration.
 */
import pino from 'pino';

/** The logger type every gateway module receives by injection. */
export type Logger = pino.Logger;

/** Log levels accepted in configuration. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel;
  /** Component name, written as `name` on every line. */
  name?: string;
  /** Fields written on every line (e.g. `{ instanceId }`). */
  base?: Record<string, unknown>;
  /** Where lines go; default stdout. Tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
}

/**
 * Creates a JSON-lines logger. Timestamps are ISO strings under `time` and levels are written as
 * labels (`"level":"warn"`), which is what CloudWatch Logs Insights queries read most easily.
 *
 * @example
 * const logger = createLogger({ level: 'debug', name: 'sip-gateway', base: { instanceId } });
 * logger.warn({ source: '192.0.2.1:5060', reason }, 'malformed message dropped');
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: { ...(options.name ? { name: options.name } : {}), ...(options.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}
