/**
 * `npm start`: the whole mid-registrar in one process (DESIGN §7) — gateway, in-process decisions,
 * embedded persistent store (`dataDir`) and an in-process ticker for timed work.
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
import { loadConfig } from './cli/load-config';
import { openLocalRuntime, type LocalRuntime } from './cli/local-runtime';

/** How long SIGTERM waits for in-flight transactions: the longest a relay can take, plus margin. */
const DRAIN_MARGIN_MS = 2_000;

async function main(argv: readonly string[]): Promise<number> {
  let runtime: LocalRuntime;
  try {
    const config = loadConfig(argv, (path) => readFileSync(path, 'utf8'));
    runtime = await openLocalRuntime(config, { gatewayId: `local-${hostname()}-${process.pid}` });
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
void main(process.argv.slice(2)).then((code) => process.exit(code));
