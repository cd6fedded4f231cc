/**
 * INVITE client transaction, RFC 3261 §17.1.1 as updated by RFC 6026 §8.4 (Accepted state, Timer M).
 *
 * @remarks
 * Timer C (RFC 3261 §16.6 step 11) belongs to the proxy, not to this transaction: a proxy that gives up on a
 * branch CANCELs it, and the 487 that follows completes the transaction as any other non-2xx would.
 * A `terminate` action makes the layer stop every timer of the transaction.
 */
import type { FsmContext, FsmStep, TransactionAction, TransactionEvent } from './types';

/** Constants of one INVITE client transaction. */
export interface InviteClientContext<M> extends FsmContext<M> {
  /** Builds the §17.1.1.3 ACK for a non-2xx final response. */
  readonly createAck: (finalResponse: M) => M;
}

/** State of an INVITE client transaction. */
export interface InviteClientState<M> {
  readonly name: 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';
  /** Current Timer A interval (doubles on each retransmission, §17.1.1.2). */
  readonly timerAMs: number;
  /** The ACK sent for the non-2xx final response, re-sent for each of its retransmissions. */
  readonly ack: M | undefined;
}

type Step<M> = FsmStep<InviteClientState<M>, M>;

const unchanged = <M>(state: InviteClientState<M>): Step<M> => ({ state, actions: [] });

/** The pure INVITE client transaction FSM. */
export const inviteClientFsm = {
  start<M>(context: InviteClientContext<M>): Step<M> {
    // §17.1.1.2: "the client transaction MUST start timer A with a value of T1" (unreliable transports only)
    // "and MUST start timer B with a value of 64*T1 seconds" (all transports).
    const actions: TransactionAction<M>[] = [{ kind: 'send', message: context.request }];
    if (!context.isReliable) actions.push({ kind: 'start-timer', timer: 'A', delayMs: context.timers.t1Ms });
    actions.push({ kind: 'start-timer', timer: 'B', delayMs: context.timers.sixtyFourT1Ms });
    return { state: { name: 'Calling', timerAMs: context.timers.t1Ms, ack: undefined }, actions };
  },

  step<M>(context: InviteClientContext<M>, state: InviteClientState<M>, event: TransactionEvent<M>): Step<M> {
    switch (state.name) {
      case 'Calling':
        if (event.kind === 'timer' && event.timer === 'A') {
          // §17.1.1.2: when timer A fires, retransmit the request and reset the timer to 2*A (no T2 cap for INVITE).
          const timerAMs = state.timerAMs * 2;
          return {
            state: { ...state, timerAMs },
            actions: [
              { kind: 'send', message: context.request },
              { kind: 'start-timer', timer: 'A', delayMs: timerAMs },
            ],
          };
        }
        if (event.kind === 'timer' && event.timer === 'B') {
          // §17.1.1.2: still Calling when timer B fires: inform the TU of the timeout, go to Terminated.
          return terminated(state, { kind: 'timeout' });
        }
        if (event.kind === 'response') {
          return onResponseBeforeFinal(context, state, event.message, event.status, [
            { kind: 'stop-timer', timer: 'A' },
            { kind: 'stop-timer', timer: 'B' },
          ]);
        }
        if (event.kind === 'transport-error') {
          // §17.1.4: a transport failure is reported to the TU as if Timer B fired.
          return terminated(state, { kind: 'transport-error' });
        }
        return unchanged(state);

      case 'Proceeding':
        if (event.kind === 'response') return onResponseBeforeFinal(context, state, event.message, event.status, []);
        if (event.kind === 'transport-error') return terminated(state, { kind: 'transport-error' });
        return unchanged(state);

      case 'Completed':
        if (event.kind === 'response' && event.status >= 300 && state.ack !== undefined) {
          // §17.1.1.2: any retransmission of the final response in Completed causes the ACK to be re-passed to
          // the transport layer; it is not passed up to the TU.
          return { state, actions: [{ kind: 'send', message: state.ack }] };
        }
        if (event.kind === 'timer' && event.timer === 'D') {
          // §17.1.1.2: when timer D fires in Completed, go to Terminated.
          return terminated(state);
        }
        if (event.kind === 'transport-error') {
          // §17.1.1.2 figure: a transport error while sending the ACK informs the TU and terminates.
          return terminated(state, { kind: 'transport-error' });
        }
        return unchanged(state);

      case 'Accepted':
        if (event.kind === 'response' && event.status >= 200 && event.status < 300) {
          // RFC 6026 §8.4: any 2xx received in Accepted (retransmission or another fork) is passed to the TU.
          return { state, actions: [{ kind: 'deliver-to-tu', message: event.message }] };
        }
        if (event.kind === 'timer' && event.timer === 'M') {
          // RFC 6026 §8.4: when Timer M fires in Accepted, go to Terminated.
          return terminated(state);
        }
        return unchanged(state);

      case 'Terminated':
        return unchanged(state);
    }
  },
};

/** §17.1.1.2 handling of a response in Calling or Proceeding (after `leaveCalling` stopped Calling's timers). */
function onResponseBeforeFinal<M>(
  context: InviteClientContext<M>,
  state: InviteClientState<M>,
  message: M,
  status: number,
  leaveCalling: TransactionAction<M>[],
): Step<M> {
  if (status < 200) {
    // §17.1.1.2: a provisional response moves Calling to Proceeding and is passed to the TU; in Proceeding
    // further provisional responses are passed to the TU.
    return {
      state: { ...state, name: 'Proceeding' },
      actions: [...leaveCalling, { kind: 'deliver-to-tu', message }],
    };
  }
  if (status < 300) {
    // RFC 6026 §8.4: a 2xx moves to Accepted, is passed to the TU, and Timer M is started with 64*T1.
    return {
      state: { ...state, name: 'Accepted' },
      actions: [
        ...leaveCalling,
        { kind: 'deliver-to-tu', message },
        { kind: 'start-timer', timer: 'M', delayMs: context.timers.sixtyFourT1Ms },
      ],
    };
  }
  // §17.1.1.2: a 300-699 response generates an ACK, is passed to the TU, and the transaction moves to
  // Completed, starting timer D (>= 32 s unreliable, zero for reliable transports).
  const ack = context.createAck(message);
  const actions: TransactionAction<M>[] = [
    ...leaveCalling,
    { kind: 'send', message: ack },
    { kind: 'deliver-to-tu', message },
  ];
  if (context.isReliable) return terminated({ ...state, ack }, undefined, actions);
  actions.push({ kind: 'start-timer', timer: 'D', delayMs: context.timers.timerDMs });
  return { state: { ...state, name: 'Completed', ack }, actions };
}

function terminated<M>(
  state: InviteClientState<M>,
  notice?: TransactionAction<M>,
  before: TransactionAction<M>[] = [],
): Step<M> {
  const actions = notice === undefined ? before : [...before, notice];
  return { state: { ...state, name: 'Terminated' }, actions: [...actions, { kind: 'terminate' }] };
}
