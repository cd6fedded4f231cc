/**
 * The HTTP health endpoint of a running gateway (SPEC CFG-4 `healthPort`): `GET /health`.
 *
 * @remarks
 * The NLB target group and `npm start` users probe it. While the gateway drains after SIGTERM it
 * answers 503 so the load balancer stops sending new flows before the task exits.
 */
import * as http from 'node:http';

/** What the endpoint reports; read on every probe. */
export interface HealthStatus {
  /** False while draining or before the SIP listeners are up. */
  ready: boolean;
  /** Extra fields for operators (mode, listen addresses, in-flight transactions). */
  details: Record<string, unknown>;
}

/** A started health server. */
export interface HealthServer {
  /** The bound port (useful when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts `GET /health` on `host:port`: 200 with `{"status":"ok",…}` when ready, 503 with
 * `{"status":"draining",…}` otherwise; any other path or method gets 404.
 *
 * @example
 * const health = await startHealthServer({ port: 8080, status: () => ({ ready: true, details: { mode: 1 } }) });
 */
export function startHealthServer(options: { host?: string; port: number; status: () => HealthStatus }): Promise<HealthServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/health') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const status = options.status();
    const body = JSON.stringify({ status: status.ready ? 'ok' : 'draining', ...status.details });
    response.writeHead(status.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${body}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
