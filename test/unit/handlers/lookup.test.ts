import { CONTRACT_VERSION } from '../../../functions/core/contract';

describe('Module: functions/handlers/lookup (Lambda entry)', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('builds its handler at cold start from the environment', async () => {
    // Prepare
    process.env.BINDINGS_TABLE_NAME = 'bindings';
    process.env.MID_REGISTRAR_CONFIG = JSON.stringify({ upstreamUri: 'sip:registrar.example.net', advertisedUri: 'sip:203.0.113.10:5060' });
    process.env.AWS_REGION = 'us-east-1';
    let entry: { handler: (event: unknown) => Promise<{ decisions: unknown[] }> } | undefined;

    // Act
    jest.isolateModules(() => {
      entry = jest.requireActual('../../../functions/handlers/lookup');
    });
    const empty = await entry!.handler({ version: CONTRACT_VERSION, operation: 'lookup', requests: [] });

    // Assess
    expect(empty).toEqual({ version: CONTRACT_VERSION, decisions: [] });
  });

  it('fails at cold start when the configuration is missing, before any request', () => {
    // Prepare
    delete process.env.MID_REGISTRAR_CONFIG;
    process.env.BINDINGS_TABLE_NAME = 'bindings';

    // Act
    const loading = () => jest.isolateModules(() => jest.requireActual('../../../functions/handlers/lookup'));

    // Assess
    expect(loading).toThrow(/MID_REGISTRAR_CONFIG is not set/);
  });
});
