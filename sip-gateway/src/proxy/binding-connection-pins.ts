/**
 * SPEC PTH-4: a TCP/TLS connection used by a valid binding is not closed for idleness. The gateway learns
 * which bindings use a connection from the 2xx it sends to a REGISTER (the committed outcome, RFC 3261
 * §10.3 step 8 lists every current contact with its expiry), and pins the REGISTER's connection for each
 * of them until the binding ends, expires, or moves to another flow.
 */
import type { Clock, TimerHandle } from '../transaction/clock';
import type { SipMessage } from '../sip/message';
import type { SipUri } from '../sip/uri';
import type { Flow } from '../transport/flow';

/** Options of {@link BindingConnectionPins}. */
export interface BindingConnectionPinsOptions {
  clock: Clock;
  /** Pins a connection once more (the transport counts pins); false when it is already gone. */
  pin(connectionId: string): boolean;
  /** Releases one pin (the transport keeps the connection for its grace period after the last). */
  unpin(connectionId: string): void;
}

interface PinnedBinding {
  connectionId: string;
  expiry: TimerHandle;
}

/**
 * Pins per binding (AoR + contact URI) on this gateway instance.
 *
 * @example
 * const pins = new BindingConnectionPins({ clock, pin: (id) => transport.pinConnection(id), unpin: (id) => transport.unpinConnection(id) });
 * pins.onRegisterOk(registerRequest, okResponse, requestFlow);
 */
export class BindingConnectionPins {
  private readonly bindings = new Map<string, PinnedBinding>();

  constructor(private readonly options: BindingConnectionPinsOptions) {}

  /** Bindings currently holding a pin. */
  get pinnedCount(): number {
    return this.bindings.size;
  }

  /**
   * A 2xx went to the REGISTER that came on `flow`: each contact the REGISTER named that the 2xx lists
   * with a non-zero expiry now uses `flow` (PTH-2); any other it named has ended. A star ends them all.
   */
  onRegisterOk(request: SipMessage, response: SipMessage, flow: Flow): void {
    // The REGISTER hot path over UDP: nothing to pin, and nothing pinned that could move or end.
    if ((flow.transport === 'udp' || flow.connectionId === undefined) && this.bindings.size === 0) return;
    const aor = bindingAor(request);
    const requested = request.contacts();
    if (requested.star) {
      for (const key of [...this.bindings.keys()]) if (key.startsWith(`${aor}|`)) this.release(key);
      return;
    }
    const granted = new Map<string, number>();
    const listed = response.contacts();
    if (!listed.star) {
      const defaultExpiresSec = response.expires() ?? 3600;
      for (const contact of listed.contacts) {
        const expires = contact.params.find((p) => p.name.toLowerCase() === 'expires')?.value;
        granted.set(contactKey(contact.uri), expires === undefined ? defaultExpiresSec : Number(expires));
      }
    }
    for (const contact of requested.contacts) {
      const key = `${aor}|${contactKey(contact.uri)}`;
      const expiresSec = granted.get(contactKey(contact.uri)) ?? 0;
      if (!(expiresSec > 0) || flow.transport === 'udp' || flow.connectionId === undefined) {
        // Ended, or moved to a flow without a connection.
        this.release(key);
        continue;
      }
      this.hold(key, flow.connectionId, expiresSec * 1000);
    }
  }

  /** Releases every pin (the gateway closes). */
  clear(): void {
    for (const key of [...this.bindings.keys()]) this.release(key);
  }

  private hold(key: string, connectionId: string, validForMs: number): void {
    const previous = this.bindings.get(key);
    if (previous !== undefined) this.options.clock.clearTimer(previous.expiry);
    // A refresh on the same connection keeps its pin; a new connection takes over (the binding moved).
    if (previous?.connectionId !== connectionId) {
      if (!this.options.pin(connectionId)) {
        if (previous !== undefined) this.release(key);
        return;
      }
      if (previous !== undefined) this.options.unpin(previous.connectionId);
    }
    this.bindings.set(key, { connectionId, expiry: this.options.clock.setTimer(validForMs, () => this.release(key)) });
  }

  private release(key: string): void {
    const pinned = this.bindings.get(key);
    if (pinned === undefined) return;
    this.bindings.delete(key);
    this.options.clock.clearTimer(pinned.expiry);
    this.options.unpin(pinned.connectionId);
  }
}

function bindingAor(request: SipMessage): string {
  const uri = request.to().uri;
  return `${uri.user ?? ''}@${uri.host.toLowerCase()}`;
}

/** Contact URIs compare by user, host and port here: the 2xx lists the contacts as the REGISTER sent them. */
function contactKey(uri: SipUri): string {
  return `${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''}`;
}
