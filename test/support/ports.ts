/**
 * Free loopback ports for integration tests.
 *
 * Each jest worker draws from its own slice of the port space (JEST_WORKER_ID), starts at a random
 * offset inside it (so two jest processes started by different engineers rarely meet), and proves
 * every candidate free by binding it on UDP and TCP and releasing both. Ports handed out by this
 * process are never handed out again by it.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

/** First port of the pool; below the Linux ephemeral range (32768+), above well-known services. */
const POOL_BASE = 20000;
/** Ports per jest worker slice. */
const SLICE_SIZE = 1500;
/** Number of slices; worker ids beyond this wrap around. */
const SLICE_COUNT = 8;

const handedOut = new Set<number>();

function sliceStart(): number {
  const workerId = Number.parseInt(process.env.JEST_WORKER_ID ?? '1', 10);
  const slice = (Number.isFinite(workerId) ? workerId - 1 : 0) % SLICE_COUNT;
  return POOL_BASE + slice * SLICE_SIZE;
}

function probeUdp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

function probeTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Returns a port free on both UDP and TCP at `host` (default 127.0.0.1), reserved for this process.
 *
 * @example
 * const port = await allocatePort();
 */
export async function allocatePort(host = '127.0.0.1'): Promise<number> {
  const start = sliceStart();
  let offset = Math.floor(Math.random() * SLICE_SIZE);
  for (let attempt = 0; attempt < SLICE_SIZE; attempt += 1, offset = (offset + 1) % SLICE_SIZE) {
    const port = start + offset;
    if (handedOut.has(port)) continue;
    if ((await probeUdp(host, port)) && (await probeTcp(host, port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free UDP+TCP port in ${start}..${start + SLICE_SIZE - 1} on ${host}`);
}

/** Returns `count` distinct ports, each free on UDP and TCP. */
export async function allocatePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) ports.push(await allocatePort(host));
  return ports;
}
