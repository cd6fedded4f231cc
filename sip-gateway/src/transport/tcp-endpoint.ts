/**
 * One TCP (or TLS) listening socket and every connection it accepted or opened: framing per
 * connection, writes by connection id, connect with timeout, idle closing (SPEC PTH-4 pins respected).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectionTable, type ConnectionEntry } from './connection-table';
import { TransportSendError } from './errors';
import type { Flow } from './flow';

/** Splits a byte stream into events (SIP messages, keep-alives, errors); one per connection. */
export interface StreamFramerPort<E> {
  push(chunk: Buffer): E[];
}

/** Certificates for a TLS listener and for the connections it opens. */
export interface TlsSettings {
  /** Server key and certificate (PEM). */
  key: string | Buffer;
  cert: string | Buffer;
  /** Trusted CAs for verifying peers we connect to; default the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the certificate of peers we connect to. Default true. */
  rejectUnauthorized?: boolean;
}

/** Options for {@link TcpEndpoint}. */
export interface TcpEndpointOptions<E> {
  /** `tls` wraps every connection in TLS (RFC 3261 §26.2.1) with `tlsSettings`. */
  transport: 'tcp' | 'tls';
  tlsSettings?: TlsSettings;
  host: string;
  port: number;
  /** A fresh framer for each connection. */
  createFramer: () => StreamFramerPort<E>;
  /** Receives every framer event with the flow of its connection. */
  onEvents: (events: E[], flow: Flow) => void;
  /** Connection opened (accepted or connected) or closed; for metrics and logs. */
  onConnection?: (change: 'opened' | 'closed', flow: Flow) => void;
  onError: (error: Error) => void;
  nowMs: () => number;
  idleTimeoutMs: number;
  unpinGraceMs: number;
  connectTimeoutMs: number;
  /** Accepted plus opened connections at most; beyond it new ones are refused. */
  maxConnections: number;
  /** Prefix of connection ids, so ids are unique across endpoints. */
  idPrefix: string;
}

interface Connection<E> {
  socket: net.Socket;
  framer: StreamFramerPort<E>;
}

/** A TCP listener with its connection table. */
export class TcpEndpoint<E> {
  private readonly connections: ConnectionTable<Connection<E>>;
  private readonly pending = new Map<string, Promise<ConnectionEntry<Connection<E>>>>();
  private nextId = 1;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closing = false;

  private constructor(
    private readonly server: net.Server,
    private readonly options: TcpEndpointOptions<E>,
    readonly localAddress: string,
    readonly localPort: number,
  ) {
    this.connections = new ConnectionTable({ idleTimeoutMs: options.idleTimeoutMs, unpinGraceMs: options.unpinGraceMs });
    const sweepMs = Math.max(100, Math.min(5000, Math.floor(options.idleTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.closeIdle(), sweepMs);
    this.sweepTimer.unref();
    // A TLS server reports a connection once its handshake is done.
    server.on(options.transport === 'tls' ? 'secureConnection' : 'connection', (socket: net.Socket) => this.adopt(socket));
  }

  /** Listens on `host:port` (0 picks a free port). */
  static listen<E>(options: TcpEndpointOptions<E>): Promise<TcpEndpoint<E>> {
    return new Promise((resolve, reject) => {
      let server: net.Server;
      if (options.transport === 'tls') {
        if (!options.tlsSettings) return reject(new TransportSendError('tls listener without key and certificate'));
        server = tls.createServer({ key: options.tlsSettings.key, cert: options.tlsSettings.cert, noDelay: true });
        // A failed handshake ends that connection only.
        server.on('tlsClientError', () => undefined);
      } else {
        server = net.createServer({ noDelay: true });
      }
      server.maxConnections = options.maxConnections;
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', options.onError);
        const address = server.address() as net.AddressInfo;
        resolve(new TcpEndpoint(server, options, address.address, address.port));
      });
    });
  }

  /** `tcp` or `tls`. */
  get transport(): 'tcp' | 'tls' {
    return this.options.transport;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** True when `connectionId` is open on this endpoint. */
  has(connectionId: string): boolean {
    return this.connections.get(connectionId) !== undefined;
  }

  /** SPEC PTH-4: a binding uses this connection; it is not closed for idleness. False if gone. */
  pin(connectionId: string): boolean {
    return this.connections.pin(connectionId);
  }

  /** The binding no longer uses this connection. */
  unpin(connectionId: string): void {
    this.connections.unpin(connectionId, this.options.nowMs());
  }

  /** Writes to an open connection; returns its flow. Throws TransportSendError when it is gone. */
  async write(connectionId: string, data: Buffer): Promise<Flow> {
    const entry = this.connections.get(connectionId);
    if (!entry || entry.socket.socket.destroyed) throw new TransportSendError(`${this.options.transport} connection ${connectionId} is gone`);
    await this.writeTo(entry, data);
    return this.flowOf(entry);
  }

  /**
   * Writes to `address:port`, reusing an open connection to that peer, else connecting (bounded by
   * `connectTimeoutMs`). Returns the flow used.
   */
  async writeToPeer(address: string, port: number, data: Buffer): Promise<Flow> {
    const entry = this.connections.findByPeer(this.options.transport, address, port) ?? (await this.connect(address, port));
    await this.writeTo(entry, data);
    return this.flowOf(entry);
  }

  /** Stops accepting, ends every connection (destroying those that do not close in time). */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const sockets = this.connections.entries().map((entry) => entry.socket.socket);
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) return resolve();
            const timer = setTimeout(() => socket.destroy(), graceMs);
            socket.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.end();
          }),
      ),
    );
    await serverClosed;
  }

  /** Closes connections due for idleness now. */
  closeIdle(): void {
    for (const entry of this.connections.idleConnections(this.options.nowMs())) {
      this.connections.remove(entry.id);
      entry.socket.socket.destroy();
    }
  }

  /** Closes one connection at once (after a fatal framing error). */
  destroy(connectionId: string): void {
    this.connections.get(connectionId)?.socket.socket.destroy();
  }

  private flowOf(entry: ConnectionEntry<Connection<E>>): Flow {
    return {
      transport: this.options.transport,
      localAddress: entry.localAddress,
      localPort: entry.localPort,
      remoteAddress: entry.remoteAddress,
      remotePort: entry.remotePort,
      connectionId: entry.id,
    };
  }

  private writeTo(entry: ConnectionEntry<Connection<E>>, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      entry.socket.socket.write(data, (error) => {
        if (error) reject(new TransportSendError(`tcp write on ${entry.id} failed: ${error.message}`, { cause: error }));
        else {
          this.connections.touch(entry.id, this.options.nowMs());
          resolve();
        }
      });
    });
  }

  private connect(address: string, port: number): Promise<ConnectionEntry<Connection<E>>> {
    const key = `${address}:${port}`;
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const attempt = new Promise<ConnectionEntry<Connection<E>>>((resolve, reject) => {
      if (this.closing) return reject(new TransportSendError('tcp endpoint is closing'));
      if (this.connections.size >= this.options.maxConnections) {
        return reject(new TransportSendError(`tcp connection limit ${this.options.maxConnections} reached`));
      }
      const localAddress = this.localAddress === '0.0.0.0' || this.localAddress === '::' ? undefined : this.localAddress;
      const settings = this.options.tlsSettings;
      const raw = net.connect({ host: address, port, localAddress, noDelay: true });
      const socket =
        this.options.transport === 'tls' ? tls.connect({ socket: raw, host: address, ca: settings?.ca, rejectUnauthorized: settings?.rejectUnauthorized ?? true }) : raw;
      const connectedEvent = this.options.transport === 'tls' ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => {
        socket.destroy();
        raw.destroy();
        reject(new TransportSendError(`${this.options.transport} connect to ${key} timed out after ${this.options.connectTimeoutMs} ms`));
      }, this.options.connectTimeoutMs);
      const failed = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new TransportSendError(`${this.options.transport} connect to ${key} failed: ${error.message}`, { cause: error }));
      };
      socket.once('error', failed);
      if (socket !== raw) raw.once('error', failed);
      socket.once(connectedEvent, () => {
        clearTimeout(timer);
        const entry = this.adopt(socket);
        if (entry) resolve(entry);
        else reject(new TransportSendError(`tcp connection to ${key} closed at once`));
      });
    });
    this.pending.set(key, attempt);
    const clear = (): void => {
      this.pending.delete(key);
    };
    attempt.then(clear, clear);
    return attempt;
  }

  private adopt(socket: net.Socket): ConnectionEntry<Connection<E>> | undefined {
    if (this.closing || socket.remoteAddress === undefined || socket.remotePort === undefined) {
      socket.destroy();
      return undefined;
    }
    const id = `${this.options.idPrefix}${this.nextId++}`;
    const entry = this.connections.add({
      id,
      transport: this.options.transport,
      localAddress: socket.localAddress ?? this.localAddress,
      localPort: socket.localPort ?? this.localPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      socket: { socket, framer: this.options.createFramer() },
      openedMs: this.options.nowMs(),
    });
    const flow = this.flowOf(entry);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.connections.touch(id, this.options.nowMs());
      // SPEC ERR-3: a failure while handling one connection's bytes ends that connection only.
      try {
        const events = entry.socket.framer.push(chunk);
        if (events.length > 0) this.options.onEvents(events, flow);
      } catch (error) {
        this.options.onError(error as Error);
        socket.destroy();
      }
    });
    // Errors (ECONNRESET …) end the connection; 'close' follows and cleans up.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.connections.get(id) === entry) this.connections.remove(id);
      this.options.onConnection?.('closed', flow);
    });
    this.options.onConnection?.('opened', flow);
    return entry;
  }
}
