/**
 * One UDP listening socket. Datagrams in, datagrams out from the same socket, so requests we send
 * leave from the advertised address and port (SPEC FWD-9, PTH-3).
 */
import * as dgram from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { TransportSendError } from './errors';
import type { Flow } from './flow';

/** Receives each datagram with the flow it arrived on. */
export type DatagramHandler = (datagram: Buffer, flow: Flow) => void;

/** Socket buffer sizes to ask the kernel for (Linux caps them at `net.core.rmem_max` / `wmem_max`). */
export interface UdpBufferSizes {
  /** SO_RCVBUF in bytes; undefined keeps the kernel default. */
  readonly recvBufferBytes?: number;
  /** SO_SNDBUF in bytes; undefined keeps the kernel default. */
  readonly sendBufferBytes?: number;
}

/** A bound UDP socket. */
export class UdpEndpoint {
  private constructor(
    private readonly socket: dgram.Socket,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  /** The receive buffer the kernel actually granted, in bytes (Linux reports twice the usable size). */
  get recvBufferBytes(): number {
    return this.socket.getRecvBufferSize();
  }

  /** The send buffer the kernel actually granted, in bytes. */
  get sendBufferBytes(): number {
    return this.socket.getSendBufferSize();
  }

  /**
   * Binds `host:port` (port 0 picks a free one) and delivers datagrams to `onDatagram`. A large receive
   * buffer turns an event-loop pause into latency instead of dropped datagrams and 500 ms retransmissions.
   */
  static bind(
    host: string,
    port: number,
    onDatagram: DatagramHandler,
    onError: (error: Error) => void,
    buffers: UdpBufferSizes = {},
  ): Promise<UdpEndpoint> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({
        type: isIPv6(host) ? 'udp6' : 'udp4',
        reuseAddr: false,
        lookup: lookupLiteralAtOnce,
        ...(buffers.recvBufferBytes === undefined ? {} : { recvBufferSize: buffers.recvBufferBytes }),
        ...(buffers.sendBufferBytes === undefined ? {} : { sendBufferSize: buffers.sendBufferBytes }),
      });
      socket.once('error', reject);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.on('error', onError);
        const address = socket.address();
        const endpoint = new UdpEndpoint(socket, address.address, address.port);
        const localAddress = endpoint.localAddress;
        const localPort = endpoint.localPort;
        let lastRemoteAddress = '';
        socket.on('message', (datagram, remote) => {
          // The same string as the previous datagram's when the source repeats (a SIPp storm: every datagram): each
          // completed transaction keeps its flow for Timer J's 32 s, so one string object fewer each for the GC.
          if (remote.address !== lastRemoteAddress) lastRemoteAddress = remote.address;
          // SPEC ERR-3: whatever a datagram does to the layer above, the socket keeps receiving.
          try {
            onDatagram(datagram, { transport: 'udp', localAddress, localPort, remoteAddress: lastRemoteAddress, remotePort: remote.port });
          } catch (error) {
            onError(error as Error);
          }
        });
        resolve(endpoint);
      });
    });
  }

  /** Sends one datagram to `address:port` from this socket. */
  send(datagram: Buffer, address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sendDatagram(datagram, address, port, (error) => (error ? reject(udpSendError(error, address, port)) : resolve()));
    });
  }

  /**
   * {@link send} without a promise (the response path: saves the promise and its microtask hops per response).
   * `done` is called once, later, with no error (null) when the datagram was sent, else with the socket's error (see
   * {@link udpSendError}). It is handed to the socket as its callback: no closure of our own per datagram.
   */
  sendDatagram(datagram: Uint8Array, address: string, port: number, done: (error: Error | null) => void): void {
    try {
      this.socket.send(datagram, port, address, done);
    } catch (error) {
      // An invalid port or a closed socket throws at once; callers still hear of it later, never inside the call.
      process.nextTick(done, error as Error);
    }
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** The error a failed datagram to `address:port` is reported with. */
export function udpSendError(error: Error, address: string, port: number): TransportSendError {
  return new TransportSendError(`udp send to ${address}:${port} failed: ${error.message}`, { cause: error });
}

/**
 * The socket's address lookup: an IP literal (every flow's address, every resolved destination) is answered at
 * once; a name goes to `dns.lookup` as by default. Node's default lookup defers even a literal to the next tick
 * (~1 µs per datagram sent).
 */
function lookupLiteralAtOnce(
  hostname: string,
  options: LookupOneOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dnsLookup(hostname, options, callback);
}
