/**
 * The gateway process entry point (`dist/main.js`).
 *
 * - `npm start -- --config FILE [--key value …]`: the whole mid-registrar in one process (DESIGN §7):
 *   gateway, in-process decisions, embedded persistent store (`dataDir`), in-process sweep ticker.
 * - In the Fargate task (REGISTER_FUNCTION_NAME and LOOKUP_FUNCTION_NAME set, configuration in
 *   MID_REGISTRAR_CONFIG): the gateway with batched Lambda decisions.
 *
 * @example
 * npm start -- --config mid.json --mode 2 --upstreamUri sip:registrar.example.net --listen udp:127.0.0.10:5060
 *
 * Deployment keys beside the CFG keys (file or flags): `internalHop` (`<address>:<port>`, the gateway id
 * other instances hop to), `dynamodbEndpoint` + `bindingsTable` (local mode on a shared DynamoDB).
 * The task reads DECISION_DEADLINE_MS, DECISION_CONCURRENCY, INTERNAL_HOP_PORT, METRICS_NAMESPACE and
 * METRICS_FLUSH_INTERVAL_SEC (see cli/aws-runtime.ts).
 *
 * Exit codes: 0 after SIGTERM/SIGINT drained; 2 for a bad configuration (one stderr line naming the
 * key, CFG-2, CFG-4); 1 for any other start failure.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../../functions/core/errors';
import { openAwsRuntime, readAwsRuntimeSettings, resolveTaskPrivateAddress } from './cli/aws-runtime';
import { loadRuntimeConfig } from './cli/load-config';
import { openLocalRuntime } from './cli/local-runtime';
import { formatGatewayId } from './proxy/internal-hop';

/** How long SIGTERM waits for in-flight transactions beyond `upstreamTimeout`. */
const DRAIN_MARGIN_MS = 2_000;

interface Runtime {
  readonly config: { readonly upstreamTimeoutMs: number };
  statusLine(): string;
  stop(drainTimeoutMs: number): Promise<void>;
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let runtime: Runtime;
  try {
    const { config, runtime: deployment } = loadRuntimeConfig(argv, (path) => readFileSync(path, 'utf8'), env.MID_REGISTRAR_CONFIG);
    const registerFunction = env.REGISTER_FUNCTION_NAME;
    const lookupFunction = env.LOOKUP_FUNCTION_NAME;
    if (registerFunction && lookupFunction) {
      // DESIGN §5: the owner id other tasks hop to is this task's private address and internal port.
      const settings = readAwsRuntimeSettings(env);
      const internalHop = deployment.internalHop ?? { address: await resolveTaskPrivateAddress(env), port: settings.internalHopPort };
      runtime = await openAwsRuntime(config, { gatewayId: formatGatewayId(internalHop), internalHop, registerFunction, lookupFunction, settings });
    } else {
      const { internalHop, dynamodb } = deployment;
      runtime = await openLocalRuntime(config, {
        gatewayId: internalHop === undefined ? `local-${hostname()}-${process.pid}` : formatGatewayId(internalHop),
        ...(internalHop === undefined ? {} : { internalHop }),
        ...(dynamodb === undefined ? {} : { dynamodb }),
      });
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`start failed: ${(error as Error).message.split('\n')[0]}\n`);
    return 1;
  }
  process.stdout.write(`${runtime.statusLine()}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void runtime.stop(runtime.config.upstreamTimeoutMs + DRAIN_MARGIN_MS).then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

// Exit explicitly: a peer's half-closed TCP connection must not keep a drained process alive.
void main(process.argv.slice(2), process.env).then((code) => process.exit(code));
