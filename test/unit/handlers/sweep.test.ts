import { mockClient } from 'aws-sdk-client-mock';

type LibDynamoDb = typeof import('@aws-sdk/lib-dynamodb');

describe('Module: functions/handlers/sweep (Lambda entry)', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('DRG-4: builds its handler at cold start and sweeps the scheduled shard through the due index (Query, no Scan)', async () => {
    // Prepare
    process.env.BINDINGS_TABLE_NAME = 'bindings';
    process.env.MID_REGISTRAR_CONFIG = JSON.stringify({ upstreamUri: 'sip:registrar.example.net', advertisedUri: 'sip:203.0.113.10:5060', shardCount: 4 });
    process.env.AWS_REGION = 'us-east-1';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'test';
    let entry: { handler: (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<{ shard: number; passes: number; aors: number }> } | undefined;
    let lib: LibDynamoDb | undefined;
    let dynamo: ReturnType<typeof mockClient> | undefined;
    jest.isolateModules(() => {
      // The module registry is isolated: mock the document client class the entry point will load.
      lib = jest.requireActual<LibDynamoDb>('@aws-sdk/lib-dynamodb');
      dynamo = mockClient(lib.DynamoDBDocumentClient);
      dynamo.on(lib.QueryCommand).resolves({ Items: [] });
      entry = jest.requireActual('../../../functions/handlers/sweep');
    });

    // Act: 12 s left − upstreamTimeout 10 s − 1 s margin: room for the first pass only.
    const report = await entry!.handler({ shard: 2, shardCount: 4 }, { getRemainingTimeInMillis: () => 12_000 });

    // Assess
    expect(report).toMatchObject({ shard: 2, passes: 1, aors: 0 });
    const queries = dynamo!.commandCalls(lib!.QueryCommand);
    expect(queries.length).toBeGreaterThanOrEqual(1);
    expect(queries[0]!.args[0].input.IndexName).toBeDefined();
    expect(dynamo!.commandCalls(lib!.ScanCommand)).toHaveLength(0);
    dynamo!.restore();
  });

  it('fails at cold start when the table name is missing, before any invocation', () => {
    // Prepare
    delete process.env.BINDINGS_TABLE_NAME;
    process.env.MID_REGISTRAR_CONFIG = JSON.stringify({ upstreamUri: 'sip:registrar.example.net', advertisedUri: 'sip:203.0.113.10:5060' });

    // Act
    const loading = () => jest.isolateModules(() => jest.requireActual('../../../functions/handlers/sweep'));

    // Assess
    expect(loading).toThrow(/BINDINGS_TABLE_NAME is not set/);
  });
});
