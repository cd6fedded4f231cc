import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../../functions/core/config';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator } from '../../../functions/core/random';
import { createLookupHandler } from '../../../functions/handlers/lookup-handler';
import { createRegisterHandler } from '../../../functions/handlers/register-handler';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { openAwsRuntime, type AwsRuntime } from '../../../sip-gateway/src/cli/aws-runtime';
import { createLogger } from '../../../sip-gateway/src/observability/logger';
import { startKamailio, type KamailioInstance } from '../../support/kamailio';
import { allocatePort } from '../../support/ports';
import { stopAllProcesses } from '../../support/process';
import { runSipp } from '../../support/sipp';

const SCENARIOS = join(__dirname, 'scenarios');
const lambdaMock = mockClient(LambdaClient);

describe('Gateway with Lambda decisions (the Fargate task), handlers run behind a mocked Invoke', () => {
  let kamailio: KamailioInstance;
  let runtime: AwsRuntime;
  let store: EmbeddedBindingStore<AorRecord>;
  let midPort: number;
  let dataDir: string;
  const invocations: string[] = [];

  beforeAll(async () => {
    kamailio = await startKamailio({ users: { alice: 'secret' } });
    midPort = await allocatePort();
    dataDir = mkdtempSync(join(tmpdir(), 'lambda-mode-'));
    const config = parseConfig({
      mode: 1,
      upstreamUri: 'sip:example.com',
      upstreamOutboundProxy: kamailio.address,
      listen: [`udp:127.0.0.1:${midPort}`],
      healthPort: await allocatePort(),
      tokenSecret: 'lambda-mode-secret',
    });
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: config.shardCount });
    const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
    const metrics = { addMetric: () => undefined, publishStoredMetrics: () => undefined };
    const ids = createIdGenerator((length) => randomBytes(length));
    const register = createRegisterHandler({ config, store, ids, logger: quiet, metrics } as never);
    const lookup = createLookupHandler({ config, store, logger: quiet, metrics } as never);
    lambdaMock.on(InvokeCommand).callsFake(async (input: { FunctionName: string; Payload: Uint8Array }) => {
      const event = JSON.parse(Buffer.from(input.Payload).toString('utf8')) as { operation: string };
      invocations.push(`${input.FunctionName}:${event.operation}`);
      const result = input.FunctionName === 'mr-lookup' ? await lookup(event) : await register(event);
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(result)) };
    });
    runtime = await openAwsRuntime(config, {
      gatewayId: 'task-1',
      registerFunction: 'mr-register',
      lookupFunction: 'mr-lookup',
      logger: createLogger({ level: 'silent' }),
    });
  }, 20000);

  afterAll(async () => {
    await runtime?.stop(1000);
    store?.close();
    lambdaMock.restore();
    await kamailio?.stop();
    await stopAllProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('GEN-1: the same REGISTER dialogue as in local mode (401 through, relay, 200, absorbed refresh) over batched Invokes', async () => {
    // Prepare
    const devicePort = await allocatePort();

    // Act
    const result = await runSipp({
      scenario: join(SCENARIOS, 'register-auth-refresh-uac.xml'),
      remote: `127.0.0.1:${midPort}`,
      local: { host: '127.0.0.1', port: devicePort },
      transport: 'u1',
      service: 'alice',
      auth: { username: 'alice', password: 'secret' },
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 10000,
    });

    // Assess
    expect(result.errors).toBe('');
    expect(result.exitCode).toBe(0);
    const upstream = await kamailio.dumpBindings('alice@example.com');
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.contact).toMatch(new RegExp(`^sip:alice@127\\.0\\.0\\.1:${midPort};ctid=\\d+$`));
    expect(upstream[0]!.cseq).toBe(2);
    expect(invocations).toEqual([
      'mr-register:register',
      'mr-register:register-reply',
      'mr-register:register',
      'mr-register:register-reply',
      'mr-register:register',
    ]);
  });
});
