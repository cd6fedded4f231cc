import { inviteClientFsm, type InviteClientContext, type InviteClientState } from '../../../sip-gateway/src/transaction/invite-client-fsm';
import { deriveTimers } from '../../../sip-gateway/src/transaction/timer-settings';
import type { TransactionEvent } from '../../../sip-gateway/src/transaction/types';

type Msg = string;

const timers = deriveTimers({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });

function context(isReliable = false): InviteClientContext<Msg> {
  return { request: 'INVITE', isReliable, timers, createAck: (response) => `ACK for ${response}` };
}

function started(isReliable = false): InviteClientState<Msg> {
  return inviteClientFsm.start(context(isReliable)).state;
}

const response = (status: number): TransactionEvent<Msg> => ({ kind: 'response', message: `${status}`, status });
const timer = (name: 'A' | 'B' | 'D' | 'M'): TransactionEvent<Msg> => ({ kind: 'timer', timer: name });

describe('inviteClientFsm (RFC 3261 §17.1.1, RFC 6026 §8.4)', () => {
  it('sends the INVITE and starts Timer A (T1) and Timer B (64·T1) over UDP', () => {
    // Prepare
    const ctx = context(false);
    // Act
    const step = inviteClientFsm.start(ctx);
    // Assess
    expect(step.state.name).toBe('Calling');
    expect(step.actions).toEqual([
      { kind: 'send', message: 'INVITE' },
      { kind: 'start-timer', timer: 'A', delayMs: 500 },
      { kind: 'start-timer', timer: 'B', delayMs: 32000 },
    ]);
  });

  it('does not start Timer A over a reliable transport', () => {
    // Prepare
    const ctx = context(true);
    // Act
    const step = inviteClientFsm.start(ctx);
    // Assess
    expect(step.actions).toEqual([
      { kind: 'send', message: 'INVITE' },
      { kind: 'start-timer', timer: 'B', delayMs: 32000 },
    ]);
  });

  it('doubles Timer A on every retransmission without a T2 cap', () => {
    // Prepare
    const ctx = context();
    let state = started();
    const intervals: number[] = [];
    // Act
    for (let i = 0; i < 5; i++) {
      const step = inviteClientFsm.step(ctx, state, timer('A'));
      state = step.state;
      expect(step.actions[0]).toEqual({ kind: 'send', message: 'INVITE' });
      const start = step.actions[1];
      if (start?.kind === 'start-timer') intervals.push(start.delayMs);
    }
    // Assess
    expect(intervals).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('reports a timeout and terminates when Timer B fires in Calling', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = inviteClientFsm.step(ctx, started(), timer('B'));
    // Assess
    expect(step.state.name).toBe('Terminated');
    expect(step.actions).toEqual([{ kind: 'timeout' }, { kind: 'terminate' }]);
  });

  it('moves to Proceeding on a 1xx, stops A and B, and passes it to the TU', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = inviteClientFsm.step(ctx, started(), response(180));
    // Assess
    expect(step.state.name).toBe('Proceeding');
    expect(step.actions).toEqual([
      { kind: 'stop-timer', timer: 'A' },
      { kind: 'stop-timer', timer: 'B' },
      { kind: 'deliver-to-tu', message: '180' },
    ]);
  });

  it('moves to Accepted on a 2xx and starts Timer M (RFC 6026)', () => {
    // Prepare
    const ctx = context();
    const proceeding = inviteClientFsm.step(ctx, started(), response(100)).state;
    // Act
    const step = inviteClientFsm.step(ctx, proceeding, response(200));
    // Assess
    expect(step.state.name).toBe('Accepted');
    expect(step.actions).toEqual([
      { kind: 'deliver-to-tu', message: '200' },
      { kind: 'start-timer', timer: 'M', delayMs: 32000 },
    ]);
  });

  it('passes every 2xx received in Accepted to the TU and ignores other responses', () => {
    // Prepare
    const ctx = context();
    const accepted = inviteClientFsm.step(ctx, started(), response(200)).state;
    // Act
    const again = inviteClientFsm.step(ctx, accepted, response(200));
    const late = inviteClientFsm.step(ctx, accepted, response(486));
    const end = inviteClientFsm.step(ctx, accepted, timer('M'));
    // Assess
    expect(again.actions).toEqual([{ kind: 'deliver-to-tu', message: '200' }]);
    expect(late.actions).toEqual([]);
    expect(end.state.name).toBe('Terminated');
    expect(end.actions).toEqual([{ kind: 'terminate' }]);
  });

  it('ACKs a non-2xx final response, passes it up, and waits Timer D (32 s) in Completed over UDP', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = inviteClientFsm.step(ctx, started(), response(486));
    // Assess
    expect(step.state.name).toBe('Completed');
    expect(step.actions).toEqual([
      { kind: 'stop-timer', timer: 'A' },
      { kind: 'stop-timer', timer: 'B' },
      { kind: 'send', message: 'ACK for 486' },
      { kind: 'deliver-to-tu', message: '486' },
      { kind: 'start-timer', timer: 'D', delayMs: 32000 },
    ]);
  });

  it('re-sends the ACK, without involving the TU, for each retransmission of the final response', () => {
    // Prepare
    const ctx = context();
    const completed = inviteClientFsm.step(ctx, started(), response(486)).state;
    // Act
    const step = inviteClientFsm.step(ctx, completed, response(486));
    // Assess
    expect(step.state.name).toBe('Completed');
    expect(step.actions).toEqual([{ kind: 'send', message: 'ACK for 486' }]);
  });

  it('terminates when Timer D fires', () => {
    // Prepare
    const ctx = context();
    const completed = inviteClientFsm.step(ctx, started(), response(486)).state;
    // Act
    const step = inviteClientFsm.step(ctx, completed, timer('D'));
    // Assess
    expect(step.actions).toEqual([{ kind: 'terminate' }]);
  });

  it('terminates at once after the ACK over a reliable transport (Timer D is zero)', () => {
    // Prepare
    const ctx = context(true);
    // Act
    const step = inviteClientFsm.step(ctx, started(true), response(503));
    // Assess
    expect(step.state.name).toBe('Terminated');
    expect(step.actions).toEqual([
      { kind: 'stop-timer', timer: 'A' },
      { kind: 'stop-timer', timer: 'B' },
      { kind: 'send', message: 'ACK for 503' },
      { kind: 'deliver-to-tu', message: '503' },
      { kind: 'terminate' },
    ]);
  });

  it.each(['Calling', 'Proceeding', 'Completed'] as const)('informs the TU of a transport error in %s', (name) => {
    // Prepare
    const ctx = context();
    const state: InviteClientState<Msg> = { ...started(), name, ack: 'ACK for 486' };
    // Act
    const step = inviteClientFsm.step(ctx, state, { kind: 'transport-error' });
    // Assess
    expect(step.actions).toEqual([{ kind: 'transport-error' }, { kind: 'terminate' }]);
  });

  it('ignores everything once Terminated', () => {
    // Prepare
    const ctx = context();
    const terminated = inviteClientFsm.step(ctx, started(), timer('B')).state;
    // Act
    const steps = [response(200), response(486), timer('A'), { kind: 'transport-error' } as const].map(
      (event) => inviteClientFsm.step(ctx, terminated, event),
    );
    // Assess
    for (const step of steps) expect(step).toEqual({ state: terminated, actions: [] });
  });
});
