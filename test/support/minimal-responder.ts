/**
 * A minimal SIP server built on the gateway's own stack (codec + transaction layer + transports), for
 * the issue-2 integration proof: it answers OPTIONS 200 and REGISTER 200 (echoing the contacts with
 * their expiry), and records every request that reaches it as a transaction user, so a test can
 * check that retransmissions were absorbed by the transaction layer.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SIP_LIMITS, type SipLimits } from '../../sip-gateway/src/sip/limits';
import { createResponse, type SipMessage } from '../../sip-gateway/src/sip/message';
import { createSipTransactionCodec } from '../../sip-gateway/src/proxy/sip-transaction-codec';
import type { Clock } from '../../sip-gateway/src/transaction/clock';
import { TransactionLayer } from '../../sip-gateway/src/transaction/transaction-layer';
import type { Flow } from '../../sip-gateway/src/transport/flow';
import { createSipTransportCodec } from '../../sip-gateway/src/transport/sip-transport-codec';
import { TransportLayer } from '../../sip-gateway/src/transport/transport-layer';
import { MetricsRegistry } from '../../sip-gateway/src/observability/metrics-registry';

/** A real-time {@link Clock} whose timers never keep a finished test process alive. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  // Unref'd: pending transaction timers (Timer J, K …) must not keep a finished process alive.
  setTimer: (delayMs, fn) => setTimeout(fn, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A stable To tag per request, so every answer to one transaction carries the same tag. */
function toTagFor(request: SipMessage): string {
  return createHash('sha1').update(`${request.callId()}|${request.fromTag() ?? ''}|${request.topVia()?.branch ?? ''}`).digest('hex').slice(0, 12);
}

/** One request the responder's TU saw. */
export interface SeenRequest {
  method: string;
  callId: string;
  cseq: number;
  branch: string | undefined;
  topVia: string;
  flow: Flow;
}

/** Options for {@link startMinimalResponder}. */
export interface MinimalResponderOptions {
  /** Listen specs; default UDP and TCP on 127.0.0.1 with free ports. */
  listen?: string[];
  /** Delay before the TU answers, to let UDP clients retransmit while the transaction is pending. */
  answerDelayMs?: number;
  limits?: SipLimits;
}

/** A running responder. */
export interface MinimalResponder {
  udpPort: number | undefined;
  tcpPort: number | undefined;
  /** Requests passed to the TU (retransmissions absorbed by transactions are not here). */
  seen: SeenRequest[];
  transport: TransportLayer<SipMessage>;
  transactions: TransactionLayer<SipMessage, Flow>;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

function answer(request: SipMessage): SipMessage {
  const toTag = toTagFor(request);
  if (request.method === 'OPTIONS') {
    return createResponse(request, 200, 'OK', { toTag, headers: [['Allow', 'OPTIONS, REGISTER'], ['Accept', 'application/sdp']] });
  }
  if (request.method === 'REGISTER') {
    const contacts = request.contacts();
    if (contacts.star) return createResponse(request, 200, 'OK', { toTag });
    const defaultExpiresSec = request.expires() ?? 3600;
    const echoed = request.headerValues('Contact').map((value, index) => {
      const hasExpires = contacts.contacts[index]?.params.some((param) => param.name.toLowerCase() === 'expires') ?? false;
      return hasExpires ? value : `${value};expires=${defaultExpiresSec}`;
    });
    return createResponse(request, 200, 'OK', { toTag, headers: echoed.map((value): [string, string] => ['Contact', value]) });
  }
  return createResponse(request, 501, 'Not Implemented', { toTag });
}

/**
 * Starts the responder on loopback.
 *
 * @example
 * const responder = await startMinimalResponder();
 * await runSipp({ scenario: 'options-uac.xml', remote: `127.0.0.1:${responder.udpPort}`, … });
 * afterAll(() => responder.close());
 */
export async function startMinimalResponder(options: MinimalResponderOptions = {}): Promise<MinimalResponder> {
  const limits = options.limits ?? DEFAULT_SIP_LIMITS;
  const metrics = new MetricsRegistry({ namespace: 'minimal-responder', write: () => undefined });
  const transport = new TransportLayer<SipMessage>({
    codec: createSipTransportCodec(),
    limits,
    metrics,
  });
  const transactions = new TransactionLayer<SipMessage, Flow>({
    clock: systemClock,
    codec: createSipTransactionCodec(),
    send: (message, flow) => {
      const sent = message.isRequest ? transport.send(message, flow) : transport.sendResponse(message, flow);
      sent.catch(() => metrics.increment('responder_send_failures'));
    },
  });
  const seen: SeenRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  transport.onMessage((message, flow) => {
    if (!message.isRequest) {
      transactions.receiveResponse(message);
      return;
    }
    const result = transactions.receiveRequest(message, flow, flow.transport !== 'udp');
    if (result.kind !== 'new') return;
    seen.push({
      method: message.method,
      callId: message.callId(),
      cseq: message.cseq().seq,
      branch: message.topVia()?.branch,
      topVia: message.headerValues('Via')[0]!,
      flow,
    });
    const respond = (): void => {
      transactions.respond(result.transaction, answer(message));
    };
    if (options.answerDelayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond();
      }, options.answerDelayMs);
      timers.add(timer);
    } else {
      respond();
    }
  });
  const specs = options.listen ?? ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'];
  const bound = await transport.listen(specs);
  return {
    udpPort: bound.find((spec) => spec.transport === 'udp')?.port,
    tcpPort: bound.find((spec) => spec.transport === 'tcp')?.port,
    seen,
    transport,
    transactions,
    metrics,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await transport.close();
    },
  };
}
