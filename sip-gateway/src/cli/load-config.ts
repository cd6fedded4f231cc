/**
 * `npm start` configuration: the JSON file of `--config FILE` with single keys overridden by flags
 * (SPEC CFG-1, CFG-4), validated by the core's `parseConfig`.
 *
 * @example
 * npm start -- --config mid.json --mode 2 --upstreamUri sip:registrar.example.net --listen udp:127.0.0.10:5060
 */
import { ConfigError } from '../../../functions/core/errors';
import { parseConfig, type MidRegistrarConfig } from '../../../functions/core/config';
import { parseGatewayId, type InternalHopAddress } from '../proxy/internal-hop';

/** Keys whose flag value is taken as text as is (a `tokenSecret` of digits stays a string). */
const TEXT_KEYS = new Set([
  'upstreamUri', 'upstreamOutboundProxy', 'advertisedUri', 'insertion', 'contactIdIn', 'contactIdParam', 'atEscape',
  'tooBrief', 'pathMode', 'tokenSecret', 'dataDir', 'internalHop', 'dynamodbEndpoint', 'bindingsTable',
]);

/**
 * Deployment keys of the process, not of the product (so not SPEC CFG keys): taken out before
 * `parseConfig`, from the file or from flags alike.
 */
export interface RuntimeSettings {
  /** `internalHop: "<private address>:<port>"`: this instance's internal hop socket and gateway id (DESIGN §5). */
  internalHop?: InternalHopAddress;
  /** `dynamodbEndpoint` + `bindingsTable`: the local mode keeps bindings in DynamoDB (e.g. dynalite) instead of `dataDir`. */
  dynamodb?: { endpoint: string; tableName: string };
}

/** A loaded configuration with the process's deployment keys. */
export interface LoadedConfig {
  config: MidRegistrarConfig;
  runtime: RuntimeSettings;
}
/** Keys holding a list: each flag adds one entry, and the flags replace the file's list. */
const LIST_KEYS = new Set(['listen', 'trustedUpstreamSources']);

/** The command line, split into the configuration file and the key overrides. */
export interface CommandLine {
  configFile?: string;
  overrides: Record<string, unknown>;
}

/**
 * Reads `--config FILE` and `--<key> <value>` / `--<key>=<value>` flags. Numbers, booleans and JSON
 * objects are decoded (`--mode 2`, `--forceRegistration true`, `--upstreamAuth '{"username":…}'`);
 * text keys stay text; list keys accumulate.
 *
 * @throws ConfigError naming the flag when it has no value or is not of the `--key` form.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const overrides: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg.length === 2) throw new ConfigError(arg, 'expected --key value');
    const equals = arg.indexOf('=');
    const key = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
    let value: string | undefined;
    if (equals >= 0) value = arg.slice(equals + 1);
    else {
      value = argv[i + 1];
      i += 1;
    }
    if (value === undefined) throw new ConfigError(key, 'flag needs a value');
    if (key === 'config') configFile = value;
    else if (LIST_KEYS.has(key)) overrides[key] = [...((overrides[key] as string[] | undefined) ?? []), value];
    else overrides[key] = TEXT_KEYS.has(key) ? value : decodeFlagValue(value);
  }
  return { ...(configFile === undefined ? {} : { configFile }), overrides };
}

/** Numbers, booleans, null, objects and arrays as JSON; anything else as the text itself. */
function decodeFlagValue(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * Builds the validated configuration: file contents (if any, else `environmentJson`: the container's
 * `MID_REGISTRAR_CONFIG`), then flag overrides, then `parseConfig`.
 *
 * @param readFile - returns the file's text; throws if it cannot be read
 * @param environmentJson - configuration JSON from the environment, used when no `--config` is given
 * @throws ConfigError with a one-line message naming the key (or `config` for an unreadable file)
 */
export function loadConfig(argv: readonly string[], readFile: (path: string) => string, environmentJson?: string): MidRegistrarConfig {
  return loadRuntimeConfig(argv, readFile, environmentJson).config;
}

/**
 * As {@link loadConfig}, with the deployment keys `internalHop`, `dynamodbEndpoint` and `bindingsTable`
 * taken out and validated.
 *
 * @throws ConfigError naming the key
 * @example
 * const { config, runtime } = loadRuntimeConfig(['--config', 'a.json', '--internalHop', '127.0.0.21:5090'], read);
 */
export function loadRuntimeConfig(argv: readonly string[], readFile: (path: string) => string, environmentJson?: string): LoadedConfig {
  const { configFile, overrides } = parseCommandLine(argv);
  let fromFile: unknown = {};
  if (configFile === undefined && environmentJson !== undefined) {
    try {
      fromFile = JSON.parse(environmentJson) as unknown;
    } catch (error) {
      throw new ConfigError('MID_REGISTRAR_CONFIG', `is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  } else if (configFile !== undefined) {
    let text: string;
    try {
      text = readFile(configFile);
    } catch (error) {
      throw new ConfigError('config', `cannot read ${configFile}: ${(error as Error).message}`, { cause: error });
    }
    try {
      fromFile = JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError('config', `${configFile} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new ConfigError(configFile === undefined ? 'MID_REGISTRAR_CONFIG' : 'config', 'must hold a JSON object');
  }
  const { internalHop, dynamodbEndpoint, bindingsTable, ...keys } = { ...(fromFile as Record<string, unknown>), ...overrides };
  return { config: parseConfig(keys), runtime: parseRuntimeSettings(internalHop, dynamodbEndpoint, bindingsTable) };
}

function parseRuntimeSettings(internalHop: unknown, dynamodbEndpoint: unknown, bindingsTable: unknown): RuntimeSettings {
  const settings: RuntimeSettings = {};
  if (internalHop !== undefined) {
    const hop = typeof internalHop === 'string' ? parseGatewayId(internalHop) : undefined;
    if (hop === undefined) throw new ConfigError('internalHop', 'must be "<IP address>:<port>"');
    settings.internalHop = hop;
  }
  if (dynamodbEndpoint !== undefined || bindingsTable !== undefined) {
    if (typeof dynamodbEndpoint !== 'string' || !/^https?:\/\/\S+$/.test(dynamodbEndpoint)) throw new ConfigError('dynamodbEndpoint', 'must be an http(s) URL');
    if (typeof bindingsTable !== 'string' || bindingsTable === '') throw new ConfigError('bindingsTable', 'must name the bindings table');
    settings.dynamodb = { endpoint: dynamodbEndpoint, tableName: bindingsTable };
  }
  return settings;
}
