import { ConfigError } from '../../../functions/core/errors';
import { DECISION_STORE_BUDGET_MS, DYNAMODB_CALL_BOUND_MS } from '../../../functions/handlers/dynamodb-client';
import { MIN_DECISION_DEADLINE_MS, readAwsRuntimeSettings, resolveTaskPrivateAddress } from '../../../sip-gateway/src/cli/aws-runtime';

describe('Function: readAwsRuntimeSettings', () => {
  it('defaults: 3 s decision deadline, 64 invocations in flight, hop port 5090, 60 s metric flushes', () => {
    // Act
    const settings = readAwsRuntimeSettings({});

    // Assess
    expect(settings).toEqual({ decisionDeadlineMs: 3000, decisionConcurrency: 64, metricsNamespace: 'MidRegistrar', metricsFlushMs: 60_000, internalHopPort: 5090 });
  });

  it('ERR-5: the default deadline exceeds the functions\' store time per invocation by the Invoke margin, and that store time fits a DynamoDB call with every attempt timing out (they answer 503, not the gateway 500)', () => {
    // Act
    const { decisionDeadlineMs } = readAwsRuntimeSettings({});

    // Assess
    expect(decisionDeadlineMs).toBeGreaterThanOrEqual(DECISION_STORE_BUDGET_MS + 500);
    expect(DECISION_STORE_BUDGET_MS).toBeGreaterThanOrEqual(DYNAMODB_CALL_BOUND_MS);
  });

  it('reads the task environment the stack sets', () => {
    // Act
    const settings = readAwsRuntimeSettings({
      DECISION_DEADLINE_MS: '5000',
      DECISION_CONCURRENCY: '16',
      INTERNAL_HOP_PORT: '6090',
      METRICS_NAMESPACE: 'SipMidRegistrar',
      METRICS_FLUSH_INTERVAL_SEC: '30',
    });

    // Assess
    expect(settings).toEqual({ decisionDeadlineMs: 5000, decisionConcurrency: 16, metricsNamespace: 'SipMidRegistrar', metricsFlushMs: 30_000, internalHopPort: 6090 });
  });

  it.each([
    ['DECISION_DEADLINE_MS', String(MIN_DECISION_DEADLINE_MS - 1)],
    ['DECISION_DEADLINE_MS', 'soon'],
    ['DECISION_CONCURRENCY', '0'],
    ['INTERNAL_HOP_PORT', '70000'],
  ])('a bad %s=%s fails at start naming the variable', (name, value) => {
    // Act
    const read = () => readAwsRuntimeSettings({ [name]: value });

    // Assess
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(name);
  });
});

describe('Function: resolveTaskPrivateAddress', () => {
  it('DESIGN §5: takes the task ENI address from the ECS container metadata', async () => {
    // Prepare
    const fetchJson = jest.fn().mockResolvedValue({ Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.1.7'] }] });

    // Act
    const address = await resolveTaskPrivateAddress({ ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' }, fetchJson);

    // Assess
    expect(address).toBe('10.0.1.7');
    expect(fetchJson).toHaveBeenCalledWith('http://169.254.170.2/v4/abc');
  });

  it('without metadata falls back to an interface address', async () => {
    // Prepare
    const fetchJson = jest.fn();

    // Act
    const address = await resolveTaskPrivateAddress({}, fetchJson).catch((error: Error) => error.message);

    // Assess: a host may have only loopback, then it says so
    expect(fetchJson).not.toHaveBeenCalled();
    expect(address).toMatch(/^(\d{1,3}(\.\d{1,3}){3}|no private IPv4 address for the internal hop)$/);
  });
});
