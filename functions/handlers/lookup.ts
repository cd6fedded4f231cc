/**
 * Lambda entry point of the `lookup` decision function. Configuration is read and validated once at
 * cold start; the SDK client, store, logger and metrics live at module scope and are reused.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AorRecord } from '../core/model';
import { DynamoDbBindingStore } from '../store/dynamodb-binding-store';
import { createDynamoDbClient } from './dynamodb-client';
import { readHandlerEnv } from './handler-env';
import { createLookupHandler } from './lookup-handler';

const env = readHandlerEnv(process.env);
const logger = new Logger();
const metrics = new Metrics();
const store = new DynamoDbBindingStore<AorRecord>({
  client: createDynamoDbClient(),
  tableName: env.tableName,
  shardCount: env.config.shardCount,
});

/** The Lambda handler: a {@link DecisionBatchEvent} of lookups in, one decision per request out. */
export const handler = createLookupHandler({ config: env.config, store, logger, metrics });
