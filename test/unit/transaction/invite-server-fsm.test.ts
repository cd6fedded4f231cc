import { inviteServerFsm, type InviteServerContext, type InviteServerState } from '../../../sip-gateway/src/transaction/invite-server-fsm';
import { deriveTimers } from '../../../sip-gateway/src/transaction/timer-settings';
import type { TransactionEvent } from '../../../sip-gateway/src/transaction/types';

type Msg = string;

const timers = deriveTimers({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
const context = (isReliable = false, trying: Msg | undefined = '100'): InviteServerContext<Msg> => ({
  request: 'INVITE',
  isReliable,
  timers,
  trying,
});
const started = (isReliable = false): InviteServerState<Msg> => inviteServerFsm.start(context(isReliable)).state;
const tu = (status: number): TransactionEvent<Msg> => ({ kind: 'tu-response', message: `${status}`, status, nowMs: 0 });
const retransmission: TransactionEvent<Msg> = { kind: 'request-retransmission', message: 'INVITE again' };
const ack: TransactionEvent<Msg> = { kind: 'ack', message: 'ACK' };
const timer = (name: 'G' | 'H' | 'I' | 'L'): TransactionEvent<Msg> => ({ kind: 'timer', timer: name });

describe('inviteServerFsm (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('passes the INVITE to the TU and sends 100 Trying at once', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = inviteServerFsm.start(ctx);
    // Assess
    expect(step.state.name).toBe('Proceeding');
    expect(step.actions).toEqual([
      { kind: 'deliver-to-tu', message: 'INVITE' },
      { kind: 'send', message: '100' },
    ]);
  });

  it('sends no 100 when the TU provides its own provisional response', () => {
    // Prepare
    const ctx: InviteServerContext<Msg> = { ...context(), trying: undefined };
    // Act
    const step = inviteServerFsm.start(ctx);
    const resent = inviteServerFsm.step(ctx, step.state, retransmission);
    // Assess
    expect(step.actions).toEqual([{ kind: 'deliver-to-tu', message: 'INVITE' }]);
    expect(resent.actions).toEqual([]);
  });

  it('re-sends the most recent provisional response on a retransmitted INVITE', () => {
    // Prepare
    const ringing = inviteServerFsm.step(context(), started(), tu(180)).state;
    // Act
    const step = inviteServerFsm.step(context(), ringing, retransmission);
    // Assess
    expect(step.actions).toEqual([{ kind: 'send', message: '180' }]);
  });

  it('sends a 2xx, moves to Accepted and starts Timer L (RFC 6026)', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = inviteServerFsm.step(ctx, started(), tu(200));
    // Assess
    expect(step.state.name).toBe('Accepted');
    expect(step.actions).toEqual([
      { kind: 'send', message: '200' },
      { kind: 'start-timer', timer: 'L', delayMs: 32000 },
    ]);
  });

  it('in Accepted absorbs INVITE retransmissions, sends TU 2xx, passes ACK up, ends on Timer L', () => {
    // Prepare
    const accepted = inviteServerFsm.step(context(), started(), tu(200)).state;
    // Act
    const absorbed = inviteServerFsm.step(context(), accepted, retransmission);
    const again = inviteServerFsm.step(context(), accepted, tu(200));
    const late = inviteServerFsm.step(context(), accepted, tu(486));
    const acked = inviteServerFsm.step(context(), accepted, ack);
    const end = inviteServerFsm.step(context(), accepted, timer('L'));
    // Assess
    expect(absorbed.actions).toEqual([]);
    expect(again.actions).toEqual([{ kind: 'send', message: '200' }]);
    expect(late.actions).toEqual([]);
    expect(acked.actions).toEqual([{ kind: 'deliver-to-tu', message: 'ACK' }]);
    expect(end.actions).toEqual([{ kind: 'terminate' }]);
  });

  it('sends a non-2xx final response and starts Timers G (T1) and H (64·T1) over UDP', () => {
    // Prepare
    const ctx = context();
    // Act
    const step = inviteServerFsm.step(ctx, started(), tu(486));
    // Assess
    expect(step.state.name).toBe('Completed');
    expect(step.actions).toEqual([
      { kind: 'send', message: '486' },
      { kind: 'start-timer', timer: 'G', delayMs: 500 },
      { kind: 'start-timer', timer: 'H', delayMs: 32000 },
    ]);
  });

  it('re-sends the final response on Timer G with the interval doubling up to T2', () => {
    // Prepare
    let state = inviteServerFsm.step(context(), started(), tu(486)).state;
    const intervals: number[] = [];
    // Act
    for (let i = 0; i < 5; i++) {
      const step = inviteServerFsm.step(context(), state, timer('G'));
      expect(step.actions[0]).toEqual({ kind: 'send', message: '486' });
      const start = step.actions[1];
      if (start?.kind === 'start-timer') intervals.push(start.delayMs);
      state = step.state;
    }
    // Assess
    expect(intervals).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it('does not start Timer G over a reliable transport', () => {
    // Prepare
    const ctx = context(true);
    // Act
    const step = inviteServerFsm.step(ctx, started(true), tu(486));
    // Assess
    expect(step.actions).toEqual([
      { kind: 'send', message: '486' },
      { kind: 'start-timer', timer: 'H', delayMs: 32000 },
    ]);
  });

  it('re-sends the final response for a retransmitted INVITE in Completed and discards later TU responses', () => {
    // Prepare
    const completed = inviteServerFsm.step(context(), started(), tu(486)).state;
    // Act
    const resent = inviteServerFsm.step(context(), completed, retransmission);
    const late = inviteServerFsm.step(context(), completed, tu(200));
    // Assess
    expect(resent.actions).toEqual([{ kind: 'send', message: '486' }]);
    expect(late.actions).toEqual([]);
  });

  it('moves to Confirmed on the ACK, absorbs further ACKs, and terminates on Timer I (T4)', () => {
    // Prepare
    const completed = inviteServerFsm.step(context(), started(), tu(486)).state;
    // Act
    const confirmed = inviteServerFsm.step(context(), completed, ack);
    const second = inviteServerFsm.step(context(), confirmed.state, ack);
    const end = inviteServerFsm.step(context(), confirmed.state, timer('I'));
    // Assess
    expect(confirmed.state.name).toBe('Confirmed');
    expect(confirmed.actions).toEqual([
      { kind: 'stop-timer', timer: 'G' },
      { kind: 'stop-timer', timer: 'H' },
      { kind: 'start-timer', timer: 'I', delayMs: 5000 },
    ]);
    expect(second.actions).toEqual([]);
    expect(end.actions).toEqual([{ kind: 'terminate' }]);
  });

  it('terminates at once on the ACK over a reliable transport (Timer I is zero)', () => {
    // Prepare
    const completed = inviteServerFsm.step(context(true), started(true), tu(486)).state;
    // Act
    const step = inviteServerFsm.step(context(true), completed, ack);
    // Assess
    expect(step.state.name).toBe('Terminated');
    expect(step.actions.at(-1)).toEqual({ kind: 'terminate' });
  });

  it('indicates a failure to the TU when Timer H fires without an ACK', () => {
    // Prepare
    const completed = inviteServerFsm.step(context(), started(), tu(486)).state;
    // Act
    const step = inviteServerFsm.step(context(), completed, timer('H'));
    // Assess
    expect(step.actions).toEqual([{ kind: 'timeout' }, { kind: 'terminate' }]);
  });

  it('informs the TU of a transport error; Accepted stays until Timer L', () => {
    // Prepare
    const proceeding = started();
    const accepted = inviteServerFsm.step(context(), proceeding, tu(200)).state;
    // Act
    const inProceeding = inviteServerFsm.step(context(), proceeding, { kind: 'transport-error' });
    const inAccepted = inviteServerFsm.step(context(), accepted, { kind: 'transport-error' });
    // Assess
    expect(inProceeding.actions).toEqual([{ kind: 'transport-error' }, { kind: 'terminate' }]);
    expect(inAccepted.state.name).toBe('Accepted');
    expect(inAccepted.actions).toEqual([{ kind: 'transport-error' }]);
  });
});
