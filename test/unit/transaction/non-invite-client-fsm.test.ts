import { nonInviteClientFsm, type NonInviteClientState } from '../../../sip-gateway/src/transaction/non-invite-client-fsm';
import { deriveTimers } from '../../../sip-gateway/src/transaction/timer-settings';
import type { FsmContext, TransactionEvent } from '../../../sip-gateway/src/transaction/types';

type Msg = string;

const timers = deriveTimers({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
const context = (isReliable = false): FsmContext<Msg> => ({ request: 'REGISTER', isReliable, timers });
const started = (isReliable = false): NonInviteClientState => nonInviteClientFsm.start(context(isReliable)).state;
const response = (status: number): TransactionEvent<Msg> => ({ kind: 'response', message: `${status}`, status });
const timer = (name: 'E' | 'F' | 'K'): TransactionEvent<Msg> => ({ kind: 'timer', timer: name });

/** Fires Timer E `count` times from `state` and returns the new intervals. */
function fireE(state: NonInviteClientState, count: number): { intervals: number[]; state: NonInviteClientState } {
  const intervals: number[] = [];
  let current = state;
  for (let i = 0; i < count; i++) {
    const step = nonInviteClientFsm.step(context(), current, timer('E'));
    expect(step.actions[0]).toEqual({ kind: 'send', message: 'REGISTER' });
    const start = step.actions[1];
    if (start?.kind === 'start-timer') intervals.push(start.delayMs);
    current = step.state;
  }
  return { intervals, state: current };
}

describe('nonInviteClientFsm (RFC 3261 §17.1.2)', () => {
  it('sends the request and starts Timer E (T1) and Timer F (64·T1) over UDP', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = nonInviteClientFsm.start(ctx);
    // Assess
    expect(step.state.name).toBe('Trying');
    expect(step.actions).toEqual([
      { kind: 'send', message: 'REGISTER' },
      { kind: 'start-timer', timer: 'E', delayMs: 500 },
      { kind: 'start-timer', timer: 'F', delayMs: 32000 },
    ]);
  });

  it('does not start Timer E over a reliable transport', () => {
    // Prepare
    const ctx = context(true);
    // Act
    const step = nonInviteClientFsm.start(ctx);
    // Assess
    expect(step.actions).toEqual([
      { kind: 'send', message: 'REGISTER' },
      { kind: 'start-timer', timer: 'F', delayMs: 32000 },
    ]);
  });

  it('retransmits in Trying with Timer E doubling up to T2', () => {
    // Prepare
    const state = started();
    // Act
    const { intervals } = fireE(state, 5);
    // Assess
    expect(intervals).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it('retransmits every T2 in Proceeding', () => {
    // Prepare
    const proceeding = nonInviteClientFsm.step(context(), started(), response(100)).state;
    // Act
    const { intervals } = fireE(proceeding, 2);
    // Assess
    expect(proceeding.name).toBe('Proceeding');
    expect(intervals).toEqual([4000, 4000]);
  });

  it.each(['Trying', 'Proceeding'] as const)('reports a timeout when Timer F fires in %s', (name) => {
    // Prepare
    const state: NonInviteClientState = { ...started(), name };
    // Act
    const step = nonInviteClientFsm.step(context(), state, timer('F'));
    // Assess
    expect(step.state.name).toBe('Terminated');
    expect(step.actions).toEqual([{ kind: 'timeout' }, { kind: 'terminate' }]);
  });

  it('passes a final response to the TU and waits Timer K (T4) in Completed over UDP', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = nonInviteClientFsm.step(ctx, started(), response(200));
    // Assess
    expect(step.state.name).toBe('Completed');
    expect(step.actions).toEqual([
      { kind: 'stop-timer', timer: 'E' },
      { kind: 'stop-timer', timer: 'F' },
      { kind: 'deliver-to-tu', message: '200' },
      { kind: 'start-timer', timer: 'K', delayMs: 5000 },
    ]);
  });

  it('terminates at once on a final response over a reliable transport (Timer K is zero)', () => {
    // Prepare
    const ctx = context(true);
    // Act
    const step = nonInviteClientFsm.step(ctx, started(true), response(401));
    // Assess
    expect(step.state.name).toBe('Terminated');
    expect(step.actions.slice(-2)).toEqual([{ kind: 'deliver-to-tu', message: '401' }, { kind: 'terminate' }]);
  });

  it('absorbs response retransmissions in Completed and terminates on Timer K', () => {
    // Prepare
    const completed = nonInviteClientFsm.step(context(), started(), response(200)).state;
    // Act
    const retransmission = nonInviteClientFsm.step(context(), completed, response(200));
    const staleE = nonInviteClientFsm.step(context(), completed, timer('E'));
    const end = nonInviteClientFsm.step(context(), completed, timer('K'));
    // Assess
    expect(retransmission.actions).toEqual([]);
    expect(staleE.actions).toEqual([]);
    expect(end.actions).toEqual([{ kind: 'terminate' }]);
  });

  it('passes each provisional response to the TU', () => {
    // Prepare
    const proceeding = nonInviteClientFsm.step(context(), started(), response(100)).state;
    // Act
    const step = nonInviteClientFsm.step(context(), proceeding, response(100));
    // Assess
    expect(step.actions).toEqual([{ kind: 'deliver-to-tu', message: '100' }]);
  });

  it('informs the TU of a transport error and terminates', () => {
    // Prepare
    const state = started();
    // Act
    const step = nonInviteClientFsm.step(context(), state, { kind: 'transport-error' });
    // Assess
    expect(step.actions).toEqual([{ kind: 'transport-error' }, { kind: 'terminate' }]);
  });
});
