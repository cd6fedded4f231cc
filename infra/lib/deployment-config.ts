/**
 * Deployment settings read from CDK context and validated once at synth (issue 6 §1).
 *
 * @remarks
 * | context key | default | meaning |
 * |---|---|---|
 * | `regions` | `cdk.json` (`eu-west-1`) | comma-separated regions (or a JSON array); one stack per region |
 * | `account` | `CDK_DEFAULT_ACCOUNT` | AWS account of every stack; absent: account-agnostic stacks |
 * | `config` | `cdk.json` | the product configuration (SPEC CFG keys, the same JSON as `npm start --config`), an object or a JSON string |
 * | `configFile` | none | path of a JSON file with the product configuration; replaces `config` |
 * | `upstreamAuthSecret` | none | name or ARN of a Secrets Manager secret `{"username","password","realm"?}` for DRG-11 |
 *
 * The product configuration is checked with the same `parseConfig` that `npm start` uses, so a key that
 * would fail start fails synth, naming the key. Keys that the deployment owns are refused:
 * `listen` (the stack fixes the container ports behind the NLB), `dataDir` (embedded store, local mode only),
 * `tokenSecret` and `upstreamAuth` (secrets never go into a template: the stack generates the token
 * secret in Secrets Manager, and `upstreamAuthSecret` names the credentials).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, type MidRegistrarConfig } from '../../functions/core/config';
import { ConfigError } from '../../functions/core/errors';
import { DeploymentConfigError } from './errors';

/** Reads one CDK context value (e.g. `app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

/** Validated deployment settings. */
export interface DeploymentSettings {
  /** Target regions, de-duplicated, in the order given. */
  readonly regions: readonly string[];
  /** Target account; undefined: environment-agnostic in account (region stays explicit). */
  readonly account?: string;
  /** The product configuration JSON as given (CFG keys), without deployment-owned keys. */
  readonly productConfig: Readonly<Record<string, unknown>>;
  /** The product configuration as the functions and the gateway will read it (defaults applied). */
  readonly parsedConfig: MidRegistrarConfig;
  /** Secrets Manager secret (name or ARN) with the upstream digest credentials, if any. */
  readonly upstreamAuthSecret?: string;
}

/** Options of {@link readDeploymentSettings}. */
export interface ReadDeploymentSettingsOptions {
  /** Default account when the `account` context key is absent; typically `CDK_DEFAULT_ACCOUNT`. */
  defaultAccount?: string;
  /** Directory that a relative `configFile` is resolved against; default the working directory. */
  baseDir?: string;
  /** Reads a file as UTF-8; injectable for tests. */
  readFile?: (file: string) => string;
}

/** Keys of the product configuration that the deployment sets itself, with the reason shown to the user. */
const DEPLOYMENT_OWNED_KEYS: Readonly<Record<string, string>> = {
  listen: 'the stack fixes the container sockets behind the load balancer (UDP and TCP 5060 on the NLB)',
  dataDir: 'the embedded store is for npm start only; the deployment stores bindings in DynamoDB',
  tokenSecret: 'secrets never go into a template; the stack generates the token secret in Secrets Manager',
  upstreamAuth: 'secrets never go into a template; store them in Secrets Manager and pass -c upstreamAuthSecret=<name or ARN>',
};

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_PATTERN = /^\d{12}$/;

/**
 * Placeholder URI used only to validate the configuration at synth when `advertisedUri` is not set:
 * the stack then advertises the load balancer's DNS name, which is unknown until deploy.
 */
export const ADVERTISED_URI_PLACEHOLDER = 'sip:mid-registrar.invalid:5060';

/** The container sockets the stack uses (CFG-4 `listen` syntax): UDP on `sipPort`, TCP on `tcpPort`. */
export function containerListen(sipPort: number, tcpPort: number): string[] {
  return [`udp:0.0.0.0:${sipPort}`, `tcp:0.0.0.0:${tcpPort}`];
}

function parseRegions(raw: unknown): string[] {
  let list: unknown = raw;
  if (typeof raw === 'string') {
    list = raw.trim().startsWith('[') ? parseJson('regions', raw) : raw.split(',');
  }
  if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) {
    throw new DeploymentConfigError('regions', 'must be a comma-separated list of regions, e.g. -c regions=eu-west-1,us-east-1');
  }
  const regions = [...new Set((list as string[]).map((r) => r.trim()).filter((r) => r.length > 0))];
  if (regions.length === 0) throw new DeploymentConfigError('regions', 'must name at least one region, e.g. -c regions=eu-west-1');
  for (const region of regions) {
    if (!REGION_PATTERN.test(region)) throw new DeploymentConfigError('regions', `"${region}" is not an AWS region name like eu-west-1`);
  }
  return regions;
}

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DeploymentConfigError(key, `is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function readProductConfig(context: ContextReader, options: ReadDeploymentSettingsOptions): Record<string, unknown> {
  const file = context('configFile');
  let raw: unknown;
  let key = 'config';
  if (file !== undefined) {
    if (typeof file !== 'string' || file.length === 0) throw new DeploymentConfigError('configFile', 'must be a file path');
    const resolved = path.resolve(options.baseDir ?? process.cwd(), file);
    let text: string;
    try {
      text = (options.readFile ?? ((f) => fs.readFileSync(f, 'utf8')))(resolved);
    } catch (error) {
      throw new DeploymentConfigError('configFile', `cannot read ${resolved} (${(error as Error).message})`, { cause: error });
    }
    key = 'configFile';
    raw = parseJson(key, text);
  } else {
    raw = context('config');
    if (typeof raw === 'string') raw = parseJson(key, raw);
  }
  if (raw === undefined) {
    throw new DeploymentConfigError('config', 'is missing: set "config" in cdk.json context, -c config=\'{"upstreamUri":"sip:…"}\' or -c configFile=FILE');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DeploymentConfigError(key, 'must be a JSON object of SPEC CFG keys');
  }
  const config = raw as Record<string, unknown>;
  for (const [owned, reason] of Object.entries(DEPLOYMENT_OWNED_KEYS)) {
    if (owned in config) throw new DeploymentConfigError(`${key}.${owned}`, `must not be set: ${reason}`);
  }
  return config;
}

/**
 * Reads and validates the deployment settings from CDK context.
 *
 * @param context reads a context value, e.g. `(key) => app.node.tryGetContext(key)`.
 * @throws DeploymentConfigError naming the context key or `config.<key>` of the product configuration.
 * @example
 * ```ts
 * const settings = readDeploymentSettings((key) => app.node.tryGetContext(key), { defaultAccount: process.env.CDK_DEFAULT_ACCOUNT });
 * settings.regions; // ['eu-west-1', 'us-east-1'] for -c regions=eu-west-1,us-east-1
 * ```
 */
export function readDeploymentSettings(context: ContextReader, options: ReadDeploymentSettingsOptions = {}): DeploymentSettings {
  const regions = parseRegions(context('regions'));

  const accountRaw = context('account') ?? options.defaultAccount;
  if (accountRaw !== undefined && (typeof accountRaw !== 'string' || !ACCOUNT_PATTERN.test(accountRaw))) {
    throw new DeploymentConfigError('account', `must be a 12-digit AWS account id (got ${JSON.stringify(accountRaw)})`);
  }

  const secretRaw = context('upstreamAuthSecret');
  if (secretRaw !== undefined && (typeof secretRaw !== 'string' || secretRaw.length === 0)) {
    throw new DeploymentConfigError('upstreamAuthSecret', 'must be the name or ARN of a Secrets Manager secret');
  }

  const productConfig = readProductConfig(context, options);
  let parsedConfig: MidRegistrarConfig;
  try {
    // Validate exactly what the running system will parse: the deployment adds `listen`, a stand-in for
    // the load balancer name when `advertisedUri` is absent, and stand-ins for the secrets it injects.
    parsedConfig = parseConfig({
      ...productConfig,
      listen: containerListen(5060, 5060),
      ...(productConfig.advertisedUri === undefined ? { advertisedUri: ADVERTISED_URI_PLACEHOLDER } : {}),
      tokenSecret: 'validated-at-deploy',
      ...(secretRaw === undefined ? {} : { upstreamAuth: { username: 'validated-at-deploy', password: 'validated-at-deploy' } }),
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new DeploymentConfigError(`config.${error.key}`, error.message, { cause: error });
    throw error;
  }

  return Object.freeze({
    regions: Object.freeze(regions),
    ...(accountRaw === undefined ? {} : { account: accountRaw as string }),
    productConfig: Object.freeze({ ...productConfig }),
    parsedConfig,
    ...(secretRaw === undefined ? {} : { upstreamAuthSecret: secretRaw as string }),
  });
}
