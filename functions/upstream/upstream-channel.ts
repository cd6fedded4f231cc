/**
 * The SIP client side the sweep sends through: a non-INVITE client transaction per request (RFC 3261
 * §17.1.2) over UDP or TCP. In Lambda it is {@link openSipClientChannel}'s own sockets; in `npm start`
 * the gateway can lend its listening sockets so De-REGISTERs leave from `advertisedUri` (FWD-9).
 */
import type { SipMessage } from '../../sip-gateway/src/sip/message';
import { TransactionLayer, type ClientTransactionCallbacks, type Transaction } from '../../sip-gateway/src/transaction/transaction-layer';
import type { TimerSettings } from '../../sip-gateway/src/transaction/timer-settings';
import type { Destination, TransportProtocol } from '../../sip-gateway/src/transport/flow';
import { createSipTransportCodec } from '../../sip-gateway/src/transport/sip-transport-codec';
import { SystemClock } from '../../sip-gateway/src/transport/system-clock';
import { TransportLayer } from '../../sip-gateway/src/transport/transport-layer';
import { createSipTransactionCodec } from '../../sip-gateway/src/proxy/sip-transaction-codec';

/** Sends requests in client transactions and reports their responses. */
export interface UpstreamChannel {
  /** The sent-by (host, port) of requests leaving on `transport`: the socket they leave from (FWD-9). */
  sentBy(transport: TransportProtocol): { host: string; port: number };
  /** Starts a client transaction for `request` to `target` (reliable over TCP/TLS). */
  sendRequest(request: SipMessage, target: Destination, callbacks: ClientTransactionCallbacks<SipMessage, Destination>): void;
  /** Releases the sockets the channel owns (a lent gateway socket stays open). */
  close(): Promise<void>;
}

/** Options of {@link openSipClientChannel}. */
export interface SipClientChannelOptions {
  /** Address to bind (UDP and TCP, ephemeral ports). @default '0.0.0.0' */
  bindHost?: string;
  /** sent-by host when `bindHost` is a wildcard (rport makes answers follow the source anyway). */
  advertisedHost?: string;
  /** RFC 3261 timer settings. @default T1 500 ms, T2 4 s, T4 5 s */
  timers?: TimerSettings;
}

/**
 * Opens a UDP socket and a TCP endpoint on ephemeral ports of `bindHost`, with a transaction layer on a
 * real clock. Responses are matched to their transactions; requests arriving here are ignored (this
 * socket is nobody's contact).
 *
 * @example
 * ```ts
 * const channel = await openSipClientChannel({ bindHost: '127.0.0.1' });
 * channel.sendRequest(register, { transport: 'udp', address: '127.0.0.1', port: 5060 }, { onResponse });
 * ```
 */
export async function openSipClientChannel(options: SipClientChannelOptions = {}): Promise<UpstreamChannel> {
  const bindHost = options.bindHost ?? '0.0.0.0';
  const clock = new SystemClock();
  const limits = { maxMessageBytes: 65535, maxHeaderLines: 200, maxLineBytes: 8192 };
  const transport = new TransportLayer<SipMessage>({ codec: createSipTransportCodec(), limits });
  const listening = await transport.listen([`udp:${bindHost}:0`, `tcp:${bindHost}:0`]);
  const transactions: TransactionLayer<SipMessage, Destination> = new TransactionLayer<SipMessage, Destination>({
    clock,
    codec: createSipTransactionCodec(),
    ...(options.timers === undefined ? {} : { timers: options.timers }),
    send: (message, target, transaction: Transaction<SipMessage, Destination>) => {
      // RFC 3261 §17.1.4: a failed send ends the transaction with a transport error.
      transport.send(message, target).catch(() => transactions.reportTransportError(transaction));
    },
  });
  transport.onMessage((message) => {
    if (!message.isRequest) transactions.receiveResponse(message);
  });
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  return {
    sentBy(protocol) {
      const socket = listening.find((spec) => spec.transport === (protocol === 'udp' ? 'udp' : 'tcp')) ?? listening[0]!;
      return { host: wildcard ? (options.advertisedHost ?? socket.host) : socket.host, port: socket.port };
    },
    sendRequest(request, target, callbacks) {
      transactions.sendRequest(request, target, target.transport !== 'udp', callbacks);
    },
    async close() {
      clock.clearAll();
      await transport.close();
    },
  };
}
