/**
 * Test doubles for the transaction layer: plain-data messages that are their own {@link TransactionMessage}
 * view, a codec over them, a recording send function, and a layer wired to a {@link FakeClock}.
 */
import { FakeClock } from './fake-clock';
import {
  TransactionLayer,
  type ReceiveRequestResult,
  type ServerTransactionListener,
  type Transaction,
  type TransactionLayerOptions,
} from '../../sip-gateway/src/transaction/transaction-layer';
import type { TransactionCodec, TransactionMessage } from '../../sip-gateway/src/transaction/types';

/** A message for tests: the view fields plus a reason phrase. */
export interface TestMessage extends TransactionMessage {
  readonly reason: string;
}

/** Options of {@link buildRequest}. */
export interface RequestOptions {
  readonly method?: string;
  readonly branch?: string | undefined;
  readonly sentBy?: string;
  readonly transport?: string;
  readonly requestUri?: string;
  readonly callId?: string;
  readonly cseqSeq?: number;
  readonly fromTag?: string | undefined;
  readonly toTag?: string | undefined;
}

let branchCounter = 0;

/** A fresh RFC 3261 branch. */
export function newBranch(): string {
  branchCounter += 1;
  return `z9hG4bK-test-${branchCounter}`;
}

/** A request; defaults to a REGISTER over UDP with a fresh magic-cookie branch. */
export function buildRequest(options: RequestOptions = {}): TestMessage {
  const method = options.method ?? 'REGISTER';
  return {
    isRequest: true,
    method,
    status: 0,
    reason: '',
    requestUri: options.requestUri ?? 'sip:example.com',
    via: {
      branch: 'branch' in options ? options.branch : newBranch(),
      sentBy: options.sentBy ?? '192.0.2.10:5060',
      transport: options.transport ?? 'UDP',
    },
    callId: options.callId ?? 'call-1@192.0.2.10',
    cseqSeq: options.cseqSeq ?? 1,
    cseqMethod: method,
    fromTag: 'fromTag' in options ? options.fromTag : 'from-1',
    toTag: options.toTag,
  };
}

/** A response to `request` (its CSeq method, top Via and tags); a To tag is added to non-100 responses. */
export function buildResponse(request: TestMessage, status: number, toTag?: string): TestMessage {
  return {
    ...request,
    isRequest: false,
    method: request.cseqMethod,
    status,
    reason: `Status ${status}`,
    requestUri: '',
    toTag: toTag ?? request.toTag ?? (status === 100 ? undefined : 'to-1'),
  };
}

/** A copy of a message, as a retransmission arrives: equal content, a different object. */
export function retransmissionOf(message: TestMessage): TestMessage {
  return { ...message, via: { ...message.via } };
}

/** The codec over {@link TestMessage}. */
export const testCodec: TransactionCodec<TestMessage> = {
  view: (message) => message,
  status: (response) => response.status,
  createAck: (invite, finalResponse) => ({
    ...invite,
    method: 'ACK',
    cseqMethod: 'ACK',
    toTag: finalResponse.toTag,
  }),
  createCancel: (invite) => ({ ...invite, method: 'CANCEL', cseqMethod: 'CANCEL' }),
  createResponse: (request, status, reason) => ({ ...buildResponse(request, status), reason }),
};

/** One message handed to the transport. */
export interface SentRecord {
  readonly message: TestMessage;
  readonly target: string;
  readonly atMs: number;
  /** The transaction the layer sent it for. */
  readonly transaction: Transaction<TestMessage, string>;
}

/** A send function that records what was sent and can be told to fail. */
export class RecordingSend {
  readonly sent: SentRecord[] = [];
  /** When it returns true for a message, send throws as a transport would on a failed write. */
  failWhen: (message: TestMessage) => boolean = () => false;
  /** Called for every message the layer hands over, before it is recorded (property tests check state here). */
  observe: (message: TestMessage, target: string) => void = () => undefined;

  constructor(private readonly clock: FakeClock) {}

  readonly send = (message: TestMessage, target: string, transaction: Transaction<TestMessage, string>): void => {
    this.observe(message, target);
    if (this.failWhen(message)) throw new Error('simulated transport failure');
    this.sent.push({ message, target, atMs: this.clock.nowMs(), transaction });
  };

  /** Sent messages matching `predicate`. */
  filter(predicate: (message: TestMessage) => boolean): SentRecord[] {
    return this.sent.filter((record) => predicate(record.message));
  }

  clear(): void {
    this.sent.length = 0;
  }
}

/** Everything a transaction-layer test needs, wired together. */
export interface LayerHarness {
  readonly clock: FakeClock;
  readonly transport: RecordingSend;
  readonly layer: TransactionLayer<TestMessage, string>;
  /** Server listener notifications, in order, as `event:id`. */
  readonly serverEvents: string[];
}

/** A layer on a FakeClock and a RecordingSend, with a server listener that records its calls. */
export function createLayerHarness(
  options: Partial<Omit<TransactionLayerOptions<TestMessage, string>, 'clock' | 'send' | 'codec'>> = {},
): LayerHarness {
  const clock = new FakeClock(1_000_000);
  const transport = new RecordingSend(clock);
  const serverEvents: string[] = [];
  const serverListener: ServerTransactionListener<TestMessage, string> = {
    onTuTimeout: (tx) => serverEvents.push(`tu-timeout:${tx.id}`),
    onTimeout: (tx) => serverEvents.push(`timeout:${tx.id}`),
    onTransportError: (tx) => serverEvents.push(`transport-error:${tx.id}`),
    onTerminated: (tx) => serverEvents.push(`terminated:${tx.id}`),
  };
  const layer = new TransactionLayer<TestMessage, string>({
    serverListener,
    ...options,
    clock,
    send: transport.send,
    codec: testCodec,
  });
  return { clock, transport, layer, serverEvents };
}

/** The server transaction a request created; throws when it matched one or was rejected instead. */
export function newServerTransaction<M, T>(result: ReceiveRequestResult<M, T>): Transaction<M, T> {
  if (result.kind !== 'new') throw new Error(`expected a new transaction, got ${result.kind}`);
  return result.transaction;
}
