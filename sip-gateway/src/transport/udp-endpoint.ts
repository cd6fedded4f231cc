/**
 * One UDP listening socket. Datagrams in, datagrams out from the same socket, so requests we send
 * leave from the advertised address and port (SPEC FWD-9, PTH-3).
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
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
        socket.on('message', (datagram, remote) => {
          // SPEC ERR-3: whatever a datagram does to the layer above, the socket keeps receiving.
          try {
            onDatagram(datagram, { transport: 'udp', localAddress, localPort, remoteAddress: remote.address, remotePort: remote.port });
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
      this.socket.send(datagram, port, address, (error) => {
        if (error) reject(new TransportSendError(`udp send to ${address}:${port} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
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
