/**
 * Sends one planned REGISTER (SPEC DRG-5, DRG-9) as a non-INVITE client transaction and reports how
 * it ended (DRG-6): a final response, `upstreamTimeout` without one (RPL-9), or a transport error.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { OutgoingRegister, TimedWorkOutcome } from '../core/timed-work';
import type { Clock } from '../../sip-gateway/src/transaction/clock';
import type { Destination } from '../../sip-gateway/src/transport/flow';
import { parseNextHop } from './next-hop';
import { buildRegisterMessage, outcomeOfResponse } from './register-message';
import type { UpstreamChannel } from './upstream-channel';

/** Sends planned REGISTERs. */
export interface UpstreamSender {
  /** Sends `register` in a new client transaction; never rejects. */
  send(register: OutgoingRegister): Promise<TimedWorkOutcome>;
}

/** Options of {@link createUpstreamSender}. */
export interface UpstreamSenderOptions {
  /** Clock of the `upstreamTimeout` wait. @default real time */
  clock?: Clock;
  /** Resolves a host name to an address. @default node:dns lookup */
  resolveHost?: (host: string) => Promise<string>;
  /** Random branch suffix (after `z9hG4bK`). @default 8 random bytes, hex */
  newBranch?: () => string;
}

const realClock: Clock = {
  nowMs: () => Date.now(),
  setTimer: (delayMs, fn) => setTimeout(fn, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Builds a sender over `channel`.
 *
 * @example
 * ```ts
 * const sender = createUpstreamSender(await openSipClientChannel());
 * const outcome = await sender.send(plan.sends[0]); // { kind: '2xx', grantedExpiresSec: 0 } …
 * ```
 */
export function createUpstreamSender(channel: UpstreamChannel, options: UpstreamSenderOptions = {}): UpstreamSender {
  const clock = options.clock ?? realClock;
  const resolveHost = options.resolveHost ?? (async (host: string) => (await lookup(host)).address);
  const newBranch = options.newBranch ?? (() => randomBytes(8).toString('hex'));

  async function destinationOf(register: OutgoingRegister): Promise<Destination> {
    const hop = parseNextHop(register.outboundProxy ?? register.requestUri);
    const address = isIP(hop.host) !== 0 ? hop.host : await resolveHost(hop.host);
    return { transport: hop.transport, address, port: hop.port };
  }

  return {
    async send(register) {
      let target: Destination;
      try {
        target = await destinationOf(register);
      } catch {
        // An unparsable or unresolvable next hop cannot carry the request: a transport error (DRG-6 retries it).
        return { kind: 'transport-error' };
      }
      const sentBy = channel.sentBy(target.transport);
      const message = buildRegisterMessage(register, {
        transport: target.transport.toUpperCase(),
        host: sentBy.host,
        port: sentBy.port,
        branch: `z9hG4bK${newBranch()}`,
      });
      return new Promise<TimedWorkOutcome>((resolve) => {
        let settled = false;
        const finish = (outcome: TimedWorkOutcome): void => {
          if (settled) return;
          settled = true;
          clock.clearTimer(timer);
          resolve(outcome);
        };
        // RPL-9/DRG-6: `upstreamTimeout` bounds the wait, shorter than Timer F (64·T1).
        const timer = clock.setTimer(register.timeoutMs, () => finish({ kind: 'timeout' }));
        try {
          channel.sendRequest(message, target, {
            onResponse: (response) => {
              if (response.status >= 200) finish(outcomeOfResponse(response, register));
            },
            onTimeout: () => finish({ kind: 'timeout' }),
            onTransportError: () => finish({ kind: 'transport-error' }),
          });
        } catch {
          finish({ kind: 'transport-error' });
        }
      });
    },
  };
}
