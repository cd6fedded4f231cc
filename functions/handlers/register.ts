/**
 * Lambda entry point of the `register` decision function (`register` and `register-reply` batches).
 * Configuration is read and validated once at cold start; the SDK client, store, id generator, logger
 * and metrics live at module scope and are reused.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AorRecord } from '../core/model';
import { createIdGenerator } from '../core/random';
import { DynamoDbBindingStore } from '../store/dynamodb-binding-store';
import { createDynamoDbClient } from './dynamodb-client';
import { readHandlerEnv } from './handler-env';
import { createRegisterHandler } from './register-handler';

const env = readHandlerEnv(process.env);
const logger = new Logger();
const metrics = new Metrics();
const store = new DynamoDbBindingStore<AorRecord>({
  client: createDynamoDbClient(),
  tableName: env.tableName,
  shardCount: env.config.shardCount,
});
const ids = createIdGenerator((length) => randomBytes(length));

/** The Lambda handler: a batch of `register` or `register-reply` requests in, one decision per request out. */
export const handler = createRegisterHandler({ config: env.config, store, ids, logger, metrics });
