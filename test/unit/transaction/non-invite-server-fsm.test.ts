import { nonInviteServerFsm, type NonInviteServerContext, type NonInviteServerState } from '../../../sip-gateway/src/transaction/non-invite-server-fsm';
import { deriveTimers } from '../../../sip-gateway/src/transaction/timer-settings';
import type { TransactionEvent } from '../../../sip-gateway/src/transaction/types';

type Msg = string;

const timers = deriveTimers({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
const context = (isReliable = false): NonInviteServerContext<Msg> => ({
  request: 'REGISTER',
  isReliable,
  timers,
  createdAtMs: 10_000,
});
const started = (isReliable = false): NonInviteServerState<Msg> => nonInviteServerFsm.start(context(isReliable)).state;
const tu = (status: number, nowMs = 10_000): TransactionEvent<Msg> => ({
  kind: 'tu-response',
  message: `${status}`,
  status,
  nowMs,
});
const retransmission: TransactionEvent<Msg> = { kind: 'request-retransmission', message: 'REGISTER again' };

describe('nonInviteServerFsm (RFC 3261 §17.2.2, RFC 4320)', () => {
  it('passes the request to the TU in Trying', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = nonInviteServerFsm.start(ctx);
    // Assess
    expect(step.state.name).toBe('Trying');
    expect(step.actions).toEqual([{ kind: 'deliver-to-tu', message: 'REGISTER' }]);
  });

  it('GEN-6: discards retransmissions while the TU has not answered (suspended)', () => {
    // Prepare
    const trying = started();
    // Act
    const step = nonInviteServerFsm.step(context(), trying, retransmission);
    // Assess
    expect(step).toEqual({ state: trying, actions: [] });
  });

  it('RFC 4320: discards a 100 over UDP before T2 has passed since the request arrived', () => {
    // Prepare
    const trying = started();
    // Act
    const early = nonInviteServerFsm.step(context(), trying, tu(100, 10_000 + 3_999));
    const onTime = nonInviteServerFsm.step(context(), trying, tu(100, 10_000 + 4_000));
    // Assess
    expect(early).toEqual({ state: trying, actions: [] });
    expect(onTime.state.name).toBe('Proceeding');
    expect(onTime.actions).toEqual([{ kind: 'send', message: '100' }]);
  });

  it('RFC 4320: never sends a provisional response other than 100 to a non-INVITE request', () => {
    // Prepare
    const trying = started(true);
    // Act
    const step = nonInviteServerFsm.step(context(true), trying, tu(180, 60_000));
    // Assess
    expect(step.actions).toEqual([]);
  });

  it('RFC 4320: sends a 100 at once over a reliable transport, re-sent on retransmissions in Proceeding', () => {
    // Prepare
    const trying = started(true);
    // Act
    const proceeding = nonInviteServerFsm.step(context(true), trying, tu(100));
    const resent = nonInviteServerFsm.step(context(true), proceeding.state, retransmission);
    // Assess
    expect(proceeding.actions).toEqual([{ kind: 'send', message: '100' }]);
    expect(resent.actions).toEqual([{ kind: 'send', message: '100' }]);
  });

  it('sends the final response, moves to Completed and starts Timer J (64·T1) over UDP', () => {
    // Prepare
    const trying = started();
    // Act
    const step = nonInviteServerFsm.step(context(), trying, tu(200));
    // Assess
    expect(step.state.name).toBe('Completed');
    expect(step.actions).toEqual([
      { kind: 'send', message: '200' },
      { kind: 'start-timer', timer: 'J', delayMs: 32000 },
    ]);
  });

  it('transactions with the same Timer J share one frozen start action; another T1 gets its own delay', () => {
    // Prepare
    const slowTimers = deriveTimers({ t1Ms: 1000, t2Ms: 4000, t4Ms: 5000 });
    // Act
    const first = nonInviteServerFsm.step(context(), started(), tu(200)).actions[1];
    const second = nonInviteServerFsm.step(context(), started(), tu(200)).actions[1];
    const slow = nonInviteServerFsm.step({ ...context(), timers: slowTimers }, started(), tu(200)).actions[1];
    const again = nonInviteServerFsm.step(context(), started(), tu(200)).actions[1];
    // Assess
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(slow).toEqual({ kind: 'start-timer', timer: 'J', delayMs: 64_000 });
    expect(again).toEqual({ kind: 'start-timer', timer: 'J', delayMs: 32_000 });
  });

  it('GEN-6: in Completed every retransmission gets the same final response; other TU responses are discarded', () => {
    // Prepare
    const completed = nonInviteServerFsm.step(context(), started(), tu(200)).state;
    // Act
    const first = nonInviteServerFsm.step(context(), completed, retransmission);
    const second = nonInviteServerFsm.step(context(), completed, retransmission);
    const late = nonInviteServerFsm.step(context(), completed, tu(500));
    // Assess
    expect(first.actions).toEqual([{ kind: 'send', message: '200' }]);
    expect(second.actions).toEqual([{ kind: 'send', message: '200' }]);
    expect(late.actions).toEqual([]);
  });

  it('terminates on Timer J', () => {
    // Prepare
    const completed = nonInviteServerFsm.step(context(), started(), tu(200)).state;
    // Act
    const step = nonInviteServerFsm.step(context(), completed, { kind: 'timer', timer: 'J' });
    // Assess
    expect(step.state.name).toBe('Terminated');
    expect(step.actions).toEqual([{ kind: 'terminate' }]);
  });

  it('terminates at once after the final response over a reliable transport (Timer J is zero)', () => {
    // Prepare
    const trying = started(true);
    // Act
    const step = nonInviteServerFsm.step(context(true), trying, tu(403));
    // Assess
    expect(step.actions).toEqual([{ kind: 'send', message: '403' }, { kind: 'terminate' }]);
  });

  it('informs the TU of a transport error and terminates', () => {
    // Prepare
    const completed = nonInviteServerFsm.step(context(), started(), tu(200)).state;
    // Act
    const inTrying = nonInviteServerFsm.step(context(), started(), { kind: 'transport-error' });
    const inCompleted = nonInviteServerFsm.step(context(), completed, { kind: 'transport-error' });
    // Assess
    expect(inTrying.actions).toEqual([{ kind: 'transport-error' }, { kind: 'terminate' }]);
    expect(inCompleted.actions).toEqual([{ kind: 'transport-error' }, { kind: 'terminate' }]);
  });
});
