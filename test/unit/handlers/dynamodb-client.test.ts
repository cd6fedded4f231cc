import * as net from 'node:net';
import type { AorRecord } from '../../../functions/core/model';
import { createDynamoDbClient } from '../../../functions/handlers/dynamodb-client';
import { DynamoDbBindingStore } from '../../../functions/store/dynamodb-binding-store';
import { StoreUnavailableError } from '../../../functions/store/errors';

describe('Function: createDynamoDbClient', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    // A DynamoDB endpoint that accepts connections and never answers.
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('ERR-5: a DynamoDB that never answers becomes StoreUnavailableError within the attempt bound, not a hang', async () => {
    // Prepare
    const { port } = silent.address() as net.AddressInfo;
    const client = createDynamoDbClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const store = new DynamoDbBindingStore<AorRecord>({ client, tableName: 'bindings', shardCount: 4 });

    // Act
    const error = await store.get('alice@example.com').catch((e: unknown) => e);
    client.destroy();

    // Assess: without the client's timeouts the call would wait forever and the test time out.
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });
});
