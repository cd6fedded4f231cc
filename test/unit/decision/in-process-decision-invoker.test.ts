import { CONTRACT_VERSION, type LookupRequest, type RegisterRequest } from '../../../functions/core/contract';
import { InProcessDecisionInvoker, type DecisionServices } from '../../../sip-gateway/src/decision/in-process-decision-invoker';

const lookupRequest = { version: CONTRACT_VERSION, method: 'INVITE', requestUri: 'sip:a@b' } as LookupRequest;

describe('Class: InProcessDecisionInvoker', () => {
  it('passes decisions of the services through', async () => {
    // Prepare
    const services = {
      lookup: () => Promise.resolve({ kind: 'relay-upstream' as const }),
    } as unknown as DecisionServices;
    const invoker = new InProcessDecisionInvoker({ services, retryAfterMs: 30_000 });

    // Act
    const decision = await invoker.lookup(lookupRequest);

    // Assess
    expect(decision).toEqual({ kind: 'relay-upstream' });
  });

  it('ERR-2: a failing service gives 500 with Retry-After, never a rejection', async () => {
    // Prepare
    const services = {
      register: () => Promise.reject(new Error('store down')),
    } as unknown as DecisionServices;
    const invoker = new InProcessDecisionInvoker({ services, retryAfterMs: 20_000, newToTag: () => 't' });

    // Act
    const decision = await invoker.decideRegister({ version: CONTRACT_VERSION } as RegisterRequest);

    // Assess
    expect(decision).toEqual({
      kind: 'reject',
      response: { status: 500, reason: 'Internal error', headers: [['P-Registrar-Error', 'Internal error'], ['Retry-After', '20']], toTag: 't' },
    });
  });

  it('drain waits for decisions in progress', async () => {
    // Prepare
    let release: () => void = () => undefined;
    const services = {
      lookup: () => new Promise((resolve) => (release = () => resolve({ kind: 'relay-upstream' }))),
    } as unknown as DecisionServices;
    const invoker = new InProcessDecisionInvoker({ services, retryAfterMs: 30_000 });
    let drained = false;
    void invoker.lookup(lookupRequest);
    const draining = invoker.drain().then(() => (drained = true));
    await Promise.resolve();
    const drainedBefore = drained;

    // Act
    release();
    await draining;

    // Assess
    expect([drainedBefore, drained]).toEqual([false, true]);
  });
});
