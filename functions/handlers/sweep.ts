/**
 * Lambda entry point of the `sweep` function (DESIGN §6). Configuration is read and validated once at
 * cold start; the SDK client, store, SIP sockets (ephemeral UDP/TCP with `rport`), logger and metrics
 * live at module scope and are reused across invocations.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AorRecord } from '../core/model';
import { createIdGenerator } from '../core/random';
import { DynamoDbBindingStore } from '../store/dynamodb-binding-store';
import { openSipClientChannel } from '../upstream/upstream-channel';
import { createUpstreamSender, type UpstreamSender } from '../upstream/upstream-sender';
import { InvocationCounters } from './decision-batch-handler';
import { readHandlerEnv } from './handler-env';
import { createSweepHandler, type SweepContext, type SweepRunReport } from './sweep-handler';
import { SweepService, SWEEP_METRIC } from './sweep-service';
import { parseUri } from '../../sip-gateway/src/sip/uri';

const env = readHandlerEnv(process.env);
const logger = new Logger();
const metrics = new Metrics();
const store = new DynamoDbBindingStore<AorRecord>({ client: new DynamoDBClient({}), tableName: env.tableName, shardCount: env.config.shardCount });
const ids = createIdGenerator((length) => randomBytes(length));
let counters = new InvocationCounters();
// Opened at the first send (a CommonJS module has no top-level await; a sweep with nothing due needs no
// socket) and kept while the sandbox lives.
let senderPromise: Promise<UpstreamSender> | undefined;
const lazySender: UpstreamSender = {
  send: async (register) => {
    senderPromise ??= openSipClientChannel({ advertisedHost: parseUri(env.config.advertisedUri).host }).then((channel) => createUpstreamSender(channel));
    return (await senderPromise).send(register);
  },
};

const service = new SweepService({
  config: env.config,
  store,
  ids,
  sender: lazySender,
  nowMs: () => Date.now(),
  observer: {
    count: (metric, by) => counters.increment(metric, by),
    log: (level, message, fields) => logger[level](message, fields),
  },
});

const sweep = createSweepHandler({
  config: env.config,
  service,
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  onPassError: (error) => {
    counters.increment(SWEEP_METRIC.sweepErrors);
    logger.error('sweep pass failed', { error: error as Error });
  },
  onInvocationEnd: (report: SweepRunReport) => {
    logger.info('sweep finished', { ...report });
    counters.publish(metrics);
    counters = new InvocationCounters();
  },
});

/** The Lambda handler: `{ shard, shardCount }` from the shard's schedule. */
export const handler = (event: unknown, context: SweepContext): Promise<SweepRunReport> => sweep(event, context);
