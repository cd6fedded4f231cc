import { InvokeCommand, LambdaClient, TooManyRequestsException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CONTRACT_VERSION, type LookupDecision, type LookupRequest } from '../../../functions/core/contract';
import { LambdaDecisionInvoker, type LambdaDecisionInvokerOptions } from '../../../sip-gateway/src/decision/lambda-decision-invoker';
import { ManualClock, settle } from './manual-clock';

const lambdaMock = mockClient(LambdaClient);

function lookupRequest(requestUri: string): LookupRequest {
  return {
    version: CONTRACT_VERSION,
    method: 'INVITE',
    requestUri,
    hasToTag: false,
    flow: { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5060, localAddress: '127.0.0.1', localPort: 5070, gatewayId: 'gw1' },
    receivedAtMs: 0,
  };
}

const notFound = (uri: string): LookupDecision => ({
  kind: 'respond',
  response: { status: 404, reason: uri, headers: [], toTag: 't' },
});

function answerEachRequest(input: { Payload?: Uint8Array | string }): InvokeCommandOutput {
  const event = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')) as { requests: LookupRequest[] };
  const body = { version: CONTRACT_VERSION, decisions: event.requests.map((r) => notFound(r.requestUri)) };
  return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(body)), $metadata: {} } as unknown as InvokeCommandOutput;
}

function sentRequestUris(): string[][] {
  return lambdaMock.commandCalls(InvokeCommand).map((call) => {
    const event = JSON.parse(Buffer.from(call.args[0].input.Payload as Uint8Array).toString('utf8')) as { requests: LookupRequest[] };
    return event.requests.map((r) => r.requestUri);
  });
}

const failure500 = {
  kind: 'respond',
  response: { status: 500, reason: 'Internal error', headers: [['P-Registrar-Error', 'Internal error'], ['Retry-After', '30']], toTag: 'tag1' },
};

describe('Class: LambdaDecisionInvoker', () => {
  let clock: ManualClock;

  function createInvoker(overrides: Partial<LambdaDecisionInvokerOptions> = {}): LambdaDecisionInvoker {
    return new LambdaDecisionInvoker({
      client: new LambdaClient({ region: 'eu-west-1' }),
      functionNames: { register: 'reg', 'register-reply': 'reg', lookup: 'lkp' },
      maxBatchSize: 3,
      maxBatchWaitMs: 10,
      deadlineMs: 1000,
      maxConcurrency: 4,
      retryAfterMs: 30_000,
      clock,
      newToTag: () => 'tag1',
      ...overrides,
    });
  }

  beforeEach(() => {
    lambdaMock.reset();
    clock = new ManualClock();
  });

  it('sends N waiting requests in one invocation at once and maps decisions in order', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).callsFake(answerEachRequest);
    const invoker = createInvoker();

    // Act
    const decisions = await Promise.all(['sip:a@x', 'sip:b@x', 'sip:c@x'].map((uri) => invoker.lookup(lookupRequest(uri))));

    // Assess
    expect(sentRequestUris()).toEqual([['sip:a@x', 'sip:b@x', 'sip:c@x']]);
    expect(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input.FunctionName).toBe('lkp');
    expect(decisions).toEqual([notFound('sip:a@x'), notFound('sip:b@x'), notFound('sip:c@x')]);
  });

  it('waits at most T for a partial batch', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).callsFake(answerEachRequest);
    const invoker = createInvoker();
    const pending = [invoker.lookup(lookupRequest('sip:a@x')), invoker.lookup(lookupRequest('sip:b@x'))];
    await settle();
    const callsBeforeT = lambdaMock.commandCalls(InvokeCommand).length;

    // Act
    clock.advance(10);
    const decisions = await Promise.all(pending);

    // Assess
    expect(callsBeforeT).toBe(0);
    expect(sentRequestUris()).toEqual([['sip:a@x', 'sip:b@x']]);
    expect(decisions[1]).toEqual(notFound('sip:b@x'));
  });

  it('ERR-2: a throttled invocation gives 500 with Retry-After for every request of the batch', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    const invoker = createInvoker({ maxBatchSize: 2 });

    // Act
    const decisions = await Promise.all([invoker.lookup(lookupRequest('sip:a@x')), invoker.lookup(lookupRequest('sip:b@x'))]);

    // Assess
    expect(decisions).toEqual([failure500, failure500]);
  });

  it('ERR-2: a function error or a malformed answer gives 500 with Retry-After', async () => {
    // Prepare
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{}') } as never)
      .resolvesOnce({ StatusCode: 200, Payload: Buffer.from(JSON.stringify({ version: CONTRACT_VERSION, decisions: [] })) } as never);
    const invoker = createInvoker({ maxBatchSize: 1 });

    // Act
    const functionError = await invoker.lookup(lookupRequest('sip:a@x'));
    const malformed = await invoker.lookup(lookupRequest('sip:b@x'));

    // Assess
    expect([functionError, malformed]).toEqual([failure500, failure500]);
  });

  it('GEN-6: a deadline gives 500 once; the late answer is ignored', async () => {
    // Prepare
    let answerLate: (() => void) | undefined;
    lambdaMock.on(InvokeCommand).callsFake(
      (input) => new Promise((resolve) => (answerLate = () => resolve(answerEachRequest(input)))),
    );
    const invoker = createInvoker({ maxBatchSize: 1 });
    const resolutions: unknown[] = [];
    const pending = invoker.lookup(lookupRequest('sip:a@x')).then((d) => resolutions.push(d));
    await settle();

    // Act
    clock.advance(1000);
    await pending;
    answerLate?.();
    await settle();

    // Assess
    expect(resolutions).toEqual([failure500]);
  });

  it('keeps at most maxConcurrency invocations in flight', async () => {
    // Prepare
    const releases: (() => void)[] = [];
    lambdaMock.on(InvokeCommand).callsFake((input) => new Promise((resolve) => releases.push(() => resolve(answerEachRequest(input)))));
    const invoker = createInvoker({ maxBatchSize: 1, maxConcurrency: 1 });
    const pending = [invoker.lookup(lookupRequest('sip:a@x')), invoker.lookup(lookupRequest('sip:b@x'))];
    await settle();
    const inFlightAtFirst = lambdaMock.commandCalls(InvokeCommand).length;

    // Act
    releases[0]!();
    await settle();
    releases[1]!();
    const decisions = await Promise.all(pending);

    // Assess
    expect(inFlightAtFirst).toBe(1);
    expect(sentRequestUris()).toEqual([['sip:a@x'], ['sip:b@x']]);
    expect(decisions).toEqual([notFound('sip:a@x'), notFound('sip:b@x')]);
  });

  it('drain resolves once every request has its decision', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).callsFake(answerEachRequest);
    const invoker = createInvoker();
    let decided = false;
    void invoker.lookup(lookupRequest('sip:a@x')).then(() => (decided = true));

    // Act
    const drained = invoker.drain();
    clock.advance(10);
    await drained;

    // Assess
    expect(decided).toBe(true);
  });
});
