/**
 * Decisions from AWS Lambda (DESIGN §2–3): batched Invoke with a deadline and bounded concurrency.
 *
 * @remarks
 * Requests of one operation are collected until `maxBatchSize` are waiting or `maxBatchWaitMs` passed
 * since the first, then sent in one RequestResponse invocation. At most `maxConcurrency` invocations
 * run at once; further batches wait their turn. Every request has its own deadline (`deadlineMs` from
 * the moment it was asked): when it passes, or the invocation fails, is throttled or answers malformed
 * JSON, the request resolves with the failure decision (500 + Retry-After, ERR-2) exactly once; a late
 * answer is then ignored, so a transaction never gets two decisions (GEN-6).
 */
import { randomBytes } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Clock, TimerHandle } from '../transaction/clock';
import type { Logger } from '../observability/logger';
import type { MetricsRegistry } from '../observability/metrics-registry';
import { buildDecisionBatchEvent, readDecisionBatchResult } from './decision-batch';
import type { DecisionInvoker, DecisionOperation, DecisionRequests, DecisionResults } from './decision-invoker';
import { buildFailureDecision } from './failure-decision';
import type {
  LookupDecision,
  LookupRequest,
  RegisterDecision,
  RegisterReplyDecision,
  RegisterReplyRequest,
  RegisterRequest,
} from '../../../functions/core/contract';

/** Options of {@link LambdaDecisionInvoker}. */
export interface LambdaDecisionInvokerOptions {
  /** SDK client (its region and credentials); created once per process and reused. */
  client: LambdaClient;
  /** Function name or ARN per operation. */
  functionNames: Record<DecisionOperation, string>;
  /** N: at most this many requests per invocation (≥ 1). */
  maxBatchSize: number;
  /** T: the first waiting request is sent at the latest this long after it was asked (≥ 0). */
  maxBatchWaitMs: number;
  /** Per-request deadline, from the moment it is asked until its decision. */
  deadlineMs: number;
  /** At most this many invocations in flight (≥ 1). */
  maxConcurrency: number;
  /** `retryAfter` (CFG-1) in ms, for the failure decision. */
  retryAfterMs: number;
  clock: Clock;
  /** To tags of failure responses; default 12 random hex digits. */
  newToTag?: () => string;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

/** Why a request got the failure decision; the suffix of the `decision_failed_<reason>` metric. */
export type DecisionFailureReason = 'timeout' | 'throttled' | 'function-error' | 'malformed' | 'invoke-error';

interface PendingRequest<O extends DecisionOperation> {
  request: DecisionRequests[O];
  settled: boolean;
  deadline: TimerHandle;
  resolve: (decision: DecisionResults[O]) => void;
}

interface OperationQueue<O extends DecisionOperation> {
  waiting: PendingRequest<O>[];
  flushTimer: TimerHandle | undefined;
}

interface Batch<O extends DecisionOperation = DecisionOperation> {
  operation: O;
  items: PendingRequest<O>[];
}

/**
 * {@link DecisionInvoker} over Lambda Invoke.
 *
 * @example
 * const invoker = new LambdaDecisionInvoker({ client: new LambdaClient({}), functionNames: { register: 'mr-register',
 *   'register-reply': 'mr-register', lookup: 'mr-lookup' }, maxBatchSize: 25, maxBatchWaitMs: 5, deadlineMs: 3000,
 *   maxConcurrency: 64, retryAfterMs: 30_000, clock });
 * const decision = await invoker.decideRegister(request);
 */
export class LambdaDecisionInvoker implements DecisionInvoker {
  private readonly queues: { [O in DecisionOperation]: OperationQueue<O> } = {
    register: { waiting: [], flushTimer: undefined },
    'register-reply': { waiting: [], flushTimer: undefined },
    lookup: { waiting: [], flushTimer: undefined },
  };
  private readonly ready: Batch[] = [];
  private inFlight = 0;
  private readonly outstanding = new Set<Promise<unknown>>();
  private readonly newToTag: () => string;

  constructor(private readonly options: LambdaDecisionInvokerOptions) {
    if (options.maxBatchSize < 1 || options.maxConcurrency < 1 || options.maxBatchWaitMs < 0 || options.deadlineMs <= 0) {
      throw new RangeError('LambdaDecisionInvoker: maxBatchSize, maxConcurrency ≥ 1, maxBatchWaitMs ≥ 0, deadlineMs > 0');
    }
    this.newToTag = options.newToTag ?? (() => randomBytes(6).toString('hex'));
  }

  decideRegister(request: RegisterRequest): Promise<RegisterDecision> {
    return this.enqueue('register', request);
  }

  decideRegisterReply(request: RegisterReplyRequest): Promise<RegisterReplyDecision> {
    return this.enqueue('register-reply', request);
  }

  lookup(request: LookupRequest): Promise<LookupDecision> {
    return this.enqueue('lookup', request);
  }

  async drain(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding]);
  }

  private enqueue<O extends DecisionOperation>(operation: O, request: DecisionRequests[O]): Promise<DecisionResults[O]> {
    const queue = this.queues[operation] as OperationQueue<O>;
    const promise = new Promise<DecisionResults[O]>((resolve) => {
      const item: PendingRequest<O> = { request, settled: false, deadline: undefined, resolve };
      item.deadline = this.options.clock.setTimer(this.options.deadlineMs, () => this.fail(operation, [item], 'timeout'));
      queue.waiting.push(item);
    });
    this.outstanding.add(promise);
    void promise.then(() => this.outstanding.delete(promise));
    if (queue.waiting.length >= this.options.maxBatchSize) this.cutBatches(operation, false);
    else if (queue.flushTimer === undefined) {
      queue.flushTimer = this.options.clock.setTimer(this.options.maxBatchWaitMs, () => {
        queue.flushTimer = undefined;
        this.cutBatches(operation, true);
      });
    }
    return promise;
  }

  /**
   * Moves waiting requests into ready batches: on `timerFired` all of them (T passed for the oldest),
   * otherwise only full batches of N; a partial remainder keeps the running timer, so no request waits
   * longer than T.
   */
  private cutBatches<O extends DecisionOperation>(operation: O, timerFired: boolean): void {
    const queue = this.queues[operation] as OperationQueue<O>;
    while (queue.waiting.length >= this.options.maxBatchSize || (timerFired && queue.waiting.length > 0)) {
      const items = queue.waiting.splice(0, this.options.maxBatchSize).filter((item) => !item.settled);
      if (items.length > 0) this.ready.push({ operation, items } as unknown as Batch);
    }
    if (queue.waiting.length === 0 && queue.flushTimer !== undefined) {
      this.options.clock.clearTimer(queue.flushTimer);
      queue.flushTimer = undefined;
    }
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.maxConcurrency && this.ready.length > 0) {
      const batch = this.ready.shift() as Batch;
      // Requests whose deadline passed while the batch waited for a slot are not sent.
      batch.items = batch.items.filter((item) => !item.settled);
      if (batch.items.length === 0) continue;
      this.inFlight += 1;
      void this.invoke(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async invoke<O extends DecisionOperation>(batch: Batch<O>): Promise<void> {
    const { operation, items } = batch;
    const abort = new AbortController();
    // The invocation cannot be useful past the deadline of its items; abort it to free the slot.
    const abortTimer = this.options.clock.setTimer(this.options.deadlineMs, () => abort.abort());
    try {
      const event = buildDecisionBatchEvent(operation, items.map((item) => item.request));
      const output = await this.options.client.send(
        new InvokeCommand({
          FunctionName: this.options.functionNames[operation],
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify(event)),
        }),
        { abortSignal: abort.signal },
      );
      if (output.FunctionError) {
        this.options.logger?.error({ operation, functionError: output.FunctionError, count: items.length }, 'decision function failed');
        this.fail(operation, items, 'function-error');
        return;
      }
      const decisions = readDecisionBatchResult<O>(parsePayload(output.Payload), items.length);
      if (decisions === undefined) {
        this.options.logger?.error({ operation, count: items.length }, 'decision function answered a malformed batch');
        this.fail(operation, items, 'malformed');
        return;
      }
      items.forEach((item, index) => this.settle(item, decisions[index] as DecisionResults[O]));
      this.options.metrics?.increment('decision_invocations');
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      const reason: DecisionFailureReason =
        abort.signal.aborted || name === 'AbortError' ? 'timeout' : name === 'TooManyRequestsException' ? 'throttled' : 'invoke-error';
      this.options.logger?.error({ operation, reason, err: error, count: items.length }, 'decision invocation failed');
      this.fail(operation, items, reason);
    } finally {
      this.options.clock.clearTimer(abortTimer);
    }
  }

  private fail<O extends DecisionOperation>(operation: O, items: PendingRequest<O>[], reason: DecisionFailureReason): void {
    let failed = 0;
    for (const item of items) {
      if (item.settled) continue;
      failed += 1;
      this.settle(item, buildFailureDecision(operation, this.options.retryAfterMs, this.newToTag()));
    }
    if (failed > 0) this.options.metrics?.increment(`decision_failed_${reason}`, failed);
  }

  private settle<O extends DecisionOperation>(item: PendingRequest<O>, decision: DecisionResults[O]): void {
    if (item.settled) return;
    item.settled = true;
    this.options.clock.clearTimer(item.deadline);
    item.resolve(decision);
  }
}

function parsePayload(payload: Uint8Array | undefined): unknown {
  if (payload === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
}
