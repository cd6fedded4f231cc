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
 * Exit codes: 0 after SIGTERM/SIGINT drained; 2 for a bad configuration (one stderr line naming the
 * key, CFG-2, CFG-4); 1 for any other start failure.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../../functions/core/errors';
import { openAwsRuntime } from './cli/aws-runtime';
import { loadConfig } from './cli/load-config';
import { openLocalRuntime } from './cli/local-runtime';

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
    const config = loadConfig(argv, (path) => readFileSync(path, 'utf8'), env.MID_REGISTRAR_CONFIG);
    const gatewayId = `${hostname()}-${process.pid}`;
    const registerFunction = env.REGISTER_FUNCTION_NAME;
    const lookupFunction = env.LOOKUP_FUNCTION_NAME;
    runtime =
      registerFunction && lookupFunction
        ? await openAwsRuntime(config, { gatewayId, registerFunction, lookupFunction })
        : await openLocalRuntime(config, { gatewayId: `local-${gatewayId}` });
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
