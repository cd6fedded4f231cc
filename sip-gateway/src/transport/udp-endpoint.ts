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

/** A bound UDP socket. */
export class UdpEndpoint {
  private constructor(
    private readonly socket: dgram.Socket,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  /** Binds `host:port` (port 0 picks a free one) and delivers datagrams to `onDatagram`. */
  static bind(host: string, port: number, onDatagram: DatagramHandler, onError: (error: Error) => void): Promise<UdpEndpoint> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
      socket.once('error', reject);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.on('error', onError);
        const address = socket.address();
        const endpoint = new UdpEndpoint(socket, address.address, address.port);
        socket.on('message', (datagram, remote) => {
          // SPEC ERR-3: whatever a datagram does to the layer above, the socket keeps receiving.
          try {
            onDatagram(datagram, {
              transport: 'udp',
              localAddress: endpoint.localAddress,
              localPort: endpoint.localPort,
              remoteAddress: remote.address,
              remotePort: remote.port,
            });
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
