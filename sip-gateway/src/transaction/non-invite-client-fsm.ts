/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2 (REGISTER relayed upstream, MESSAGE, CANCEL, De-REGISTER).
 *
 * @remarks
 * A `terminate` action makes the layer stop every timer of the transaction.
 */
import type { FsmContext, FsmStep, TransactionAction, TransactionEvent } from './types';

/** State of a non-INVITE client transaction. */
export interface NonInviteClientState {
  readonly name: 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';
  /** Current Timer E interval (§17.1.2.2: doubles up to T2 in Trying, T2 in Proceeding). */
  readonly timerEMs: number;
}

type Step<M> = FsmStep<NonInviteClientState, M>;

const unchanged = <M>(state: NonInviteClientState): Step<M> => ({ state, actions: [] });

/** The pure non-INVITE client transaction FSM. */
export const nonInviteClientFsm = {
  start<M>(context: FsmContext<M>): Step<M> {
    // §17.1.2.2: "the client transaction MUST set timer F to fire in 64*T1 seconds"; over an unreliable
    // transport it "MUST set timer E to fire in T1 seconds".
    const actions: TransactionAction<M>[] = [{ kind: 'send', message: context.request }];
    if (!context.isReliable) actions.push({ kind: 'start-timer', timer: 'E', delayMs: context.timers.t1Ms });
    actions.push({ kind: 'start-timer', timer: 'F', delayMs: context.timers.sixtyFourT1Ms });
    return { state: { name: 'Trying', timerEMs: context.timers.t1Ms }, actions };
  },

  step<M>(context: FsmContext<M>, state: NonInviteClientState, event: TransactionEvent<M>): Step<M> {
    switch (state.name) {
      case 'Trying':
      case 'Proceeding':
        if (event.kind === 'timer' && event.timer === 'E') {
          // §17.1.2.2: in Trying, timer E fires: retransmit and reset E to MIN(2*E, T2); in Proceeding,
          // retransmit and reset E to T2.
          const timerEMs =
            state.name === 'Trying' ? Math.min(2 * state.timerEMs, context.timers.t2Ms) : context.timers.t2Ms;
          return {
            state: { ...state, timerEMs },
            actions: [
              { kind: 'send', message: context.request },
              { kind: 'start-timer', timer: 'E', delayMs: timerEMs },
            ],
          };
        }
        if (event.kind === 'timer' && event.timer === 'F') {
          // §17.1.2.2: timer F fires in Trying or Proceeding: inform the TU of the timeout, go to Terminated.
          return terminated(state, [{ kind: 'timeout' }]);
        }
        if (event.kind === 'transport-error') {
          // §17.1.4: a transport failure informs the TU and terminates, as Timer F would.
          return terminated(state, [{ kind: 'transport-error' }]);
        }
        if (event.kind === 'response' && event.status < 200) {
          // §17.1.2.2: a provisional response is passed to the TU; in Trying it moves to Proceeding.
          return { state: { ...state, name: 'Proceeding' }, actions: [{ kind: 'deliver-to-tu', message: event.message }] };
        }
        if (event.kind === 'response') {
          // §17.1.2.2: a final response (200-699) is passed to the TU and the transaction moves to Completed,
          // starting timer K: T4 for unreliable transports, zero for reliable ones.
          const actions: TransactionAction<M>[] = [
            { kind: 'stop-timer', timer: 'E' },
            { kind: 'stop-timer', timer: 'F' },
            { kind: 'deliver-to-tu', message: event.message },
          ];
          if (context.isReliable) return terminated(state, actions);
          actions.push({ kind: 'start-timer', timer: 'K', delayMs: context.timers.t4Ms });
          return { state: { ...state, name: 'Completed' }, actions };
        }
        return unchanged(state);

      case 'Completed':
        if (event.kind === 'timer' && event.timer === 'K') {
          // §17.1.2.2: when timer K fires in Completed, go to Terminated. Response retransmissions received
          // meanwhile are absorbed (the case below).
          return terminated(state, []);
        }
        return unchanged(state);

      case 'Terminated':
        return unchanged(state);
    }
  },
};

function terminated<M>(state: NonInviteClientState, actions: TransactionAction<M>[]): Step<M> {
  return { state: { ...state, name: 'Terminated' }, actions: [...actions, { kind: 'terminate' }] };
}
