/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2 with the RFC 4320 §4.1 restrictions on provisional
 * responses. A REGISTER awaiting its asynchronous decision simply stays in Trying: retransmissions are
 * absorbed and the TU sees the request once (SPEC GEN-6).
 *
 * @remarks
 * A `terminate` action makes the layer stop every timer of the transaction.
 */
import type { FsmContext, FsmStep, TransactionAction, TransactionEvent } from './types';

/** Constants of one non-INVITE server transaction. */
export interface NonInviteServerContext<M> extends FsmContext<M> {
  /** When the request's first transmission was received (RFC 4320 measures the 100 delay from it). */
  readonly createdAtMs: number;
}

/** State of a non-INVITE server transaction. */
export interface NonInviteServerState<M> {
  readonly name: 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';
  /** The most recent response sent: re-sent on request retransmissions in Proceeding and Completed. */
  readonly lastResponse: M | undefined;
}

type Step<M> = FsmStep<NonInviteServerState<M>, M>;

const unchanged = <M>(state: NonInviteServerState<M>): Step<M> => ({ state, actions: [] });

/** Trying before any response: the same for every transaction, so shared (one object fewer per request). */
const TRYING: NonInviteServerState<never> = Object.freeze({ name: 'Trying', lastResponse: undefined });

/** The pure non-INVITE server transaction FSM. */
export const nonInviteServerFsm = {
  start<M>(context: NonInviteServerContext<M>): Step<M> {
    // §17.2.2: the server transaction is created in Trying and the request is passed to the TU.
    return {
      state: TRYING,
      actions: [{ kind: 'deliver-to-tu', message: context.request }],
    };
  },

  step<M>(context: NonInviteServerContext<M>, state: NonInviteServerState<M>, event: TransactionEvent<M>): Step<M> {
    switch (state.name) {
      case 'Trying':
      case 'Proceeding':
        if (event.kind === 'request-retransmission') {
          // §17.2.2: in Trying further request retransmissions are discarded; in Proceeding they re-send the
          // most recent provisional response. Either way the TU never sees them (SPEC GEN-6).
          return state.name === 'Trying' ? unchanged(state) : resend(state);
        }
        if (event.kind === 'tu-response' && event.status < 200) {
          if (!isProvisionalAllowed(context, event.status, event.nowMs)) return unchanged(state);
          // §17.2.2: a provisional response from the TU is sent and the transaction is in Proceeding.
          return {
            state: { name: 'Proceeding', lastResponse: event.message },
            actions: [{ kind: 'send', message: event.message }],
          };
        }
        if (event.kind === 'tu-response') {
          // §17.2.2: a final response from the TU is sent and the transaction moves to Completed; timer J is
          // set to 64*T1 for unreliable transports and zero for reliable ones.
          const send: TransactionAction<M> = { kind: 'send', message: event.message };
          if (context.isReliable) return terminated({ ...state, lastResponse: event.message }, [send]);
          // One array literal, not a push: a pushed-to array is grown to 17 slots (every absorbed REGISTER).
          return {
            state: { name: 'Completed', lastResponse: event.message },
            actions: [send, startTimerJ(context.timers.sixtyFourT1Ms)],
          };
        }
        if (event.kind === 'transport-error') {
          // §17.2.4: a transport failure while sending a response informs the TU and terminates.
          return terminated(state, [{ kind: 'transport-error' }]);
        }
        return unchanged(state);

      case 'Completed':
        if (event.kind === 'request-retransmission') {
          // §17.2.2: in Completed every request retransmission re-sends the final response.
          return resend(state);
        }
        if (event.kind === 'timer' && event.timer === 'J') {
          // §17.2.2: when timer J fires in Completed, go to Terminated.
          return terminated(state, []);
        }
        if (event.kind === 'transport-error') return terminated(state, [{ kind: 'transport-error' }]);
        // §17.2.2: any other final response passed by the TU in Completed MUST be discarded.
        return unchanged(state);

      case 'Terminated':
        return unchanged(state);
    }
  },
};

/**
 * RFC 4320 §4.1: a provisional response to a non-INVITE request MUST be a 100, and MUST NOT go over an
 * unreliable transport before the client's Timer E has reached T2; T2 after the first receipt is a safe bound.
 */
function isProvisionalAllowed<M>(context: NonInviteServerContext<M>, status: number, nowMs: number): boolean {
  if (status !== 100) return false;
  return context.isReliable || nowMs - context.createdAtMs >= context.timers.t2Ms;
}

/** The last Timer J start action made: a layer's Timer J is one constant, so every transaction shares it. */
let lastStartTimerJ: Extract<TransactionAction<never>, { readonly kind: 'start-timer' }> = Object.freeze({
  kind: 'start-timer',
  timer: 'J',
  delayMs: -1,
});

/**
 * The action starting Timer J with `delayMs`: the frozen one made last when its delay is the same (one object fewer
 * per absorbed REGISTER; actions are read-only data, so sharing one changes nothing).
 */
function startTimerJ(delayMs: number): TransactionAction<never> {
  if (lastStartTimerJ.delayMs !== delayMs) lastStartTimerJ = Object.freeze({ kind: 'start-timer', timer: 'J', delayMs });
  return lastStartTimerJ;
}

function resend<M>(state: NonInviteServerState<M>): Step<M> {
  return state.lastResponse === undefined
    ? unchanged(state)
    : { state, actions: [{ kind: 'send', message: state.lastResponse }] };
}

function terminated<M>(state: NonInviteServerState<M>, actions: TransactionAction<M>[]): Step<M> {
  return { state: { ...state, name: 'Terminated' }, actions: [...actions, { kind: 'terminate' }] };
}
