/**
 * Polls the gateway's `GET /health` at a fixed interval and records how long each answer took: the
 * health server shares the gateway's event loop, so a slow answer means the loop was blocked (by
 * garbage collection, a synchronous write, or a long run of SIP work) or the process got no CPU.
 */
import * as http from 'node:http';

/** A running poller; `stop()` returns the answer times, ms, ascending. */
export interface LoopProbe {
  stop(): Promise<number[]>;
}

/** Starts polling `http://host:port/health` every `intervalMs`, one request at a time. */
export function startLoopProbe(host: string, port: number, intervalMs: number): LoopProbe {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const timesMs: number[] = [];
  let stopped = false;
  const pollOnce = (): Promise<void> =>
    new Promise((resolve) => {
      const startedNs = process.hrtime.bigint();
      const request = http.get({ host, port, path: '/health', agent, timeout: 5000 }, (response) => {
        response.resume();
        response.on('end', () => {
          timesMs.push(Number(process.hrtime.bigint() - startedNs) / 1e6);
          resolve();
        });
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve());
    });
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      await pollOnce();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      agent.destroy();
      return timesMs.sort((a, b) => a - b);
    },
  };
}
