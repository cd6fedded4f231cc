/**
 * Bookkeeping of TCP/TLS connections: lookup by id and by peer, activity times, pins, and which
 * connections are due to close for idleness. Pure: the caller passes `nowMs` and closes sockets.
 */
import type { TransportProtocol } from './flow';

/** What the table knows of one connection; `socket` is whatever the I/O layer keeps. */
export interface ConnectionEntry<S> {
  id: string;
  transport: TransportProtocol;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  socket: S;
  openedMs: number;
  lastActivityMs: number;
  /** Number of valid bindings using this connection (SPEC PTH-4). */
  pins: number;
  /** When the last pin was released, for the grace period after it. */
  unpinnedMs?: number;
}

/** Options for {@link ConnectionTable}. */
export interface ConnectionTableOptions {
  /** Unpinned connections with no traffic for this long are closed. */
  idleTimeoutMs: number;
  /** After the last pin is released the connection stays at least this long (SPEC PTH-4: 10 s). */
  unpinGraceMs: number;
}

function peerKey(transport: TransportProtocol, address: string, port: number): string {
  return `${transport}:${address}:${port}`;
}

/**
 * Connection table. SPEC PTH-4: a connection used by a valid binding (pinned) is never due for
 * idleness; once its last binding ends it may close `unpinGraceMs` later, or when idle, whichever is
 * later.
 */
export class ConnectionTable<S> {
  private readonly byId = new Map<string, ConnectionEntry<S>>();
  private readonly byPeer = new Map<string, ConnectionEntry<S>>();

  constructor(private readonly options: ConnectionTableOptions) {}

  /** Records a new connection. */
  add(entry: Omit<ConnectionEntry<S>, 'pins' | 'lastActivityMs' | 'unpinnedMs'>): ConnectionEntry<S> {
    const full: ConnectionEntry<S> = { ...entry, pins: 0, lastActivityMs: entry.openedMs };
    this.byId.set(full.id, full);
    this.byPeer.set(peerKey(full.transport, full.remoteAddress, full.remotePort), full);
    return full;
  }

  /** Removes a connection (closed by either side). */
  remove(id: string): ConnectionEntry<S> | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    this.byId.delete(id);
    const key = peerKey(entry.transport, entry.remoteAddress, entry.remotePort);
    if (this.byPeer.get(key) === entry) this.byPeer.delete(key);
    return entry;
  }

  get(id: string): ConnectionEntry<S> | undefined {
    return this.byId.get(id);
  }

  /** The most recent connection with this peer address and port. */
  findByPeer(transport: TransportProtocol, address: string, port: number): ConnectionEntry<S> | undefined {
    return this.byPeer.get(peerKey(transport, address, port));
  }

  /** Notes traffic on a connection. */
  touch(id: string, nowMs: number): void {
    const entry = this.byId.get(id);
    if (entry) entry.lastActivityMs = Math.max(entry.lastActivityMs, nowMs);
  }

  /** A binding now uses this connection; false when the connection is gone. */
  pin(id: string): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    entry.pins += 1;
    entry.unpinnedMs = undefined;
    return true;
  }

  /** A binding no longer uses this connection. */
  unpin(id: string, nowMs: number): void {
    const entry = this.byId.get(id);
    if (!entry || entry.pins === 0) return;
    entry.pins -= 1;
    if (entry.pins === 0) entry.unpinnedMs = nowMs;
  }

  /** Connections due to be closed for idleness at `nowMs`. */
  idleConnections(nowMs: number): Array<ConnectionEntry<S>> {
    const due: Array<ConnectionEntry<S>> = [];
    for (const entry of this.byId.values()) {
      if (entry.pins > 0) continue;
      const idleDueMs = entry.lastActivityMs + this.options.idleTimeoutMs;
      const graceDueMs = entry.unpinnedMs === undefined ? 0 : entry.unpinnedMs + this.options.unpinGraceMs;
      if (nowMs >= Math.max(idleDueMs, graceDueMs)) due.push(entry);
    }
    return due;
  }

  /** All open connections. */
  entries(): Array<ConnectionEntry<S>> {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}
