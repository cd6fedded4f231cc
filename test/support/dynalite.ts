/**
 * dynalite (a DynamoDB-API server from npm, in-process) for integration tests: started on a free
 * loopback port with the binding table created from functions/store/table-schema.ts.
 *
 * dynalite has no TTL and no transactions; the binding store needs neither (docs/store.md).
 */
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../functions/store/table-schema';
import { allocatePort } from './ports';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** A running dynalite with a client and the binding table. */
export interface DynaliteHandle {
  endpoint: string;
  client: DynamoDBClient;
  tableName: string;
  /** Closes the client and the server. */
  stop(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 and creates the binding table `tableName`.
 *
 * @example
 * const db = await startDynalite();
 * afterAll(() => db.stop());
 */
export async function startDynalite(tableName = 'bindings'): Promise<DynaliteHandle> {
  // dynalite ships no type declarations; its factory takes options and returns an http.Server.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await allocatePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  return {
    endpoint,
    client,
    tableName,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
