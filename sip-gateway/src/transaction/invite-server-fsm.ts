/**
 * INVITE server transaction, RFC 3261 §17.2.1 as updated by RFC 6026 §7.1/§8.7 (Accepted state, Timer L).
 *
 * @remarks
 * The ACK for a 2xx is end-to-end and normally carries its own branch, so it matches no transaction and goes
 * to the TU statelessly; only an ACK that does match while Accepted is passed to the TU here.
 * A `terminate` action makes the layer stop every timer of the transaction.
 */
import type { FsmContext, FsmStep, TransactionAction, TransactionEvent } from './types';

/** Constants of one INVITE server transaction. */
export interface InviteServerContext<M> extends FsmContext<M> {
  /**
   * The 100 Trying to send at once (§17.2.1: the server transaction MUST generate one unless the TU will answer
   * within 200 ms), or undefined when the TU sends its own provisional response at once.
   */
  readonly trying: M | undefined;
}

/** State of an INVITE server transaction. */
export interface InviteServerState<M> {
  readonly name: 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';
  /** The most recent response sent: re-sent on request retransmissions and Timer G. */
  readonly lastResponse: M | undefined;
  /** Current Timer G interval (§17.2.1: doubles up to T2). */
  readonly timerGMs: number;
}

type Step<M> = FsmStep<InviteServerState<M>, M>;

const unchanged = <M>(state: InviteServerState<M>): Step<M> => ({ state, actions: [] });

/** The pure INVITE server transaction FSM. */
export const inviteServerFsm = {
  start<M>(context: InviteServerContext<M>): Step<M> {
    // §17.2.1: the request is passed to the TU; a 100 Trying is sent unless the TU answers within 200 ms.
    const actions: TransactionAction<M>[] = [{ kind: 'deliver-to-tu', message: context.request }];
    if (context.trying !== undefined) actions.push({ kind: 'send', message: context.trying });
    return { state: { name: 'Proceeding', lastResponse: context.trying, timerGMs: context.timers.t1Ms }, actions };
  },

  step<M>(context: InviteServerContext<M>, state: InviteServerState<M>, event: TransactionEvent<M>): Step<M> {
    switch (state.name) {
      case 'Proceeding':
        if (event.kind === 'request-retransmission') {
          // §17.2.1: a request retransmission in Proceeding re-sends the most recent provisional response.
          return resend(state);
        }
        if (event.kind === 'tu-response' && event.status < 200) {
          // §17.2.1: provisional responses from the TU are sent; the state stays Proceeding.
          return { state: { ...state, lastResponse: event.message }, actions: [{ kind: 'send', message: event.message }] };
        }
        if (event.kind === 'tu-response' && event.status < 300) {
          // RFC 6026 §8.5/§8.7: a 2xx from the TU is sent, the transaction moves to Accepted and starts Timer L
          // with 64*T1 (it no longer terminates on a 2xx).
          return {
            state: { ...state, name: 'Accepted', lastResponse: event.message },
            actions: [
              { kind: 'send', message: event.message },
              { kind: 'start-timer', timer: 'L', delayMs: context.timers.sixtyFourT1Ms },
            ],
          };
        }
        if (event.kind === 'tu-response') {
          // §17.2.1: a 300-699 from the TU is sent and the transaction moves to Completed; timer G (T1) is set
          // for unreliable transports and timer H (64*T1) for all transports.
          const actions: TransactionAction<M>[] = [{ kind: 'send', message: event.message }];
          if (!context.isReliable) actions.push({ kind: 'start-timer', timer: 'G', delayMs: context.timers.t1Ms });
          actions.push({ kind: 'start-timer', timer: 'H', delayMs: context.timers.sixtyFourT1Ms });
          return {
            state: { ...state, name: 'Completed', lastResponse: event.message, timerGMs: context.timers.t1Ms },
            actions,
          };
        }
        if (event.kind === 'transport-error') return terminated(state, [{ kind: 'transport-error' }]);
        return unchanged(state);

      case 'Completed':
        if (event.kind === 'timer' && event.timer === 'G') {
          // §17.2.1: timer G fires: re-send the final response and reset G to MIN(2*G, T2).
          const timerGMs = Math.min(2 * state.timerGMs, context.timers.t2Ms);
          const actions: TransactionAction<M>[] = [{ kind: 'start-timer', timer: 'G', delayMs: timerGMs }];
          if (state.lastResponse !== undefined) actions.unshift({ kind: 'send', message: state.lastResponse });
          return { state: { ...state, timerGMs }, actions };
        }
        if (event.kind === 'request-retransmission') {
          // §17.2.1: a request retransmission in Completed re-sends the final response.
          return resend(state);
        }
        if (event.kind === 'ack') {
          // §17.2.1: an ACK in Completed moves to Confirmed; timer G is ignored and timer I is set to T4 for
          // unreliable transports, zero for reliable ones.
          const actions: TransactionAction<M>[] = [
            { kind: 'stop-timer', timer: 'G' },
            { kind: 'stop-timer', timer: 'H' },
          ];
          if (context.isReliable) return terminated(state, actions);
          actions.push({ kind: 'start-timer', timer: 'I', delayMs: context.timers.t4Ms });
          return { state: { ...state, name: 'Confirmed' }, actions };
        }
        if (event.kind === 'timer' && event.timer === 'H') {
          // §17.2.1: timer H fires in Completed: the ACK never came; go to Terminated and indicate the failure.
          return terminated(state, [{ kind: 'timeout' }]);
        }
        if (event.kind === 'transport-error') return terminated(state, [{ kind: 'transport-error' }]);
        // §17.2.1: other TU responses are not sent once a final response went out.
        return unchanged(state);

      case 'Confirmed':
        if (event.kind === 'timer' && event.timer === 'I') {
          // §17.2.1: Confirmed absorbs further ACKs; when timer I fires, go to Terminated.
          return terminated(state, []);
        }
        return unchanged(state);

      case 'Accepted':
        if (event.kind === 'tu-response' && event.status >= 200 && event.status < 300) {
          // RFC 6026 §7.1: in Accepted, a 2xx passed by the TU (a retransmission relayed by a proxy, or another
          // fork's 2xx) MUST be passed to the transport layer.
          return { state: { ...state, lastResponse: event.message }, actions: [{ kind: 'send', message: event.message }] };
        }
        if (event.kind === 'ack') {
          // RFC 6026 §7.1: an ACK matching the transaction in Accepted is passed to the TU.
          return { state, actions: [{ kind: 'deliver-to-tu', message: event.message }] };
        }
        if (event.kind === 'timer' && event.timer === 'L') {
          // RFC 6026 §7.1: when Timer L fires in Accepted, go to Terminated.
          return terminated(state, []);
        }
        if (event.kind === 'transport-error') {
          // RFC 6026 §7.1: the TU is informed; the transaction stays until Timer L because later 2xx from other
          // branches may still need sending on a new connection chosen by the transport.
          return { state, actions: [{ kind: 'transport-error' }] };
        }
        // RFC 6026 §7.1: request retransmissions in Accepted are absorbed, never passed to the TU.
        return unchanged(state);

      case 'Terminated':
        return unchanged(state);
    }
  },
};

function resend<M>(state: InviteServerState<M>): Step<M> {
  return state.lastResponse === undefined
    ? unchanged(state)
    : { state, actions: [{ kind: 'send', message: state.lastResponse }] };
}

function terminated<M>(state: InviteServerState<M>, actions: TransactionAction<M>[]): Step<M> {
  return { state: { ...state, name: 'Terminated' }, actions: [...actions, { kind: 'terminate' }] };
}
