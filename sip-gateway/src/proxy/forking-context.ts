/**
 * The response context of a forking proxy (RFC 3261 §16.7, SPEC LKP-5..8) as a pure state machine.
 *
 * @remarks
 * Every input returns the actions the proxy must execute; the machine sends nothing, reads no clock
 * and holds no timers. Branches are numbered in start order. Targets and responses are opaque (`T`,
 * `R`), so the machine is tested without a codec and reused for any transport.
 */
import { selectBestResponse } from './best-response';

/** Something the proxy core must do after an input. */
export type ForkAction<T, R> =
  /** RFC 3261 §16.2: an INVITE is answered 100 Trying at once. */
  | { kind: 'send-trying' }
  | { kind: 'start-branch'; branchId: number; target: T }
  /** Starts or restarts Timer C (`inviteTimeout`) of an INVITE branch (RFC 3261 §16.6 step 11, §16.7 step 2). */
  | { kind: 'start-timer-c'; branchId: number }
  | { kind: 'stop-timer-c'; branchId: number }
  /** CANCEL the branch's INVITE client transaction (RFC 3261 §9.1). */
  | { kind: 'cancel-branch'; branchId: number }
  /** Forward this branch response upstream now: a 101–199 provisional or a 2xx. */
  | { kind: 'forward-response'; branchId: number; response: R }
  /**
   * Send the final response of the forking context: the best response (`response` set, or
   * undefined for a locally generated status such as 408 or 487). `challengeSources` lists the
   * 401/407 responses whose challenges are merged into it.
   */
  | { kind: 'send-final'; status: number; response: R | undefined; challengeSources: R[] };

/** Options of {@link ForkingContext}. */
export interface ForkingContextOptions<T> {
  /** The request method; INVITE gets 100 Trying, Timer C and CANCEL (LKP-8: others fork without). */
  method: string;
  /** Target groups in the order they are tried; the branches of one group run in parallel. */
  groups: readonly (readonly T[])[];
}

type BranchState = 'calling' | 'proceeding' | 'final';

interface Collected<R> {
  status: number;
  response: R | undefined;
}

/**
 * Groups targets by descending q, each group tried in parallel (SPEC LKP-5). A target without q
 * counts as q = 1.0; targets with equal q keep their given order.
 *
 * @example
 * groupTargetsByQ([a, b, c], (t) => t.q); // q 0.5, none, 0.5 → [[b], [a, c]]
 */
export function groupTargetsByQ<T>(targets: readonly T[], qOf: (target: T) => number | undefined): T[][] {
  const byQ = new Map<number, T[]>();
  for (const target of targets) {
    const q = qOf(target) ?? 1;
    const group = byQ.get(q);
    if (group) group.push(target);
    else byQ.set(q, [target]);
  }
  return [...byQ.entries()].sort((a, b) => b[0] - a[0]).map(([, group]) => group);
}

/**
 * One forked request: feeds branch responses and timers in, returns what to send.
 *
 * @example
 * const fork = new ForkingContext({ method: 'INVITE', groups: [[a, b]] });
 * run(fork.start()); // send-trying, start-branch 0 a, start-timer-c 0, start-branch 1 b, …
 * run(fork.onFinalResponse(0, ok200, 200)); // forward-response 0, cancel-branch 1
 */
export class ForkingContext<T, R> {
  private readonly isInvite: boolean;
  private readonly groups: readonly (readonly T[])[];
  private readonly branches: BranchState[] = [];
  private readonly collected: Collected<R>[] = [];
  private readonly cancelled = new Set<number>();
  private nextGroup = 0;
  /** No new branch may start: a 2xx, a 6xx or an upstream CANCEL happened (RFC 3261 §16.7 steps 5, 10). */
  private stopped = false;
  private cancelledUpstream = false;
  /** A final response went upstream; only further INVITE 2xx may follow (RFC 3261 §16.7 step 9). */
  private finalSent = false;
  private started = false;

  constructor(options: ForkingContextOptions<T>) {
    this.isInvite = options.method === 'INVITE';
    this.groups = options.groups;
  }

  /** True once a final response went upstream (a late INVITE 2xx may still be forwarded). */
  get isFinished(): boolean {
    return this.finalSent;
  }

  /** Starts the first group. Must be called once. */
  start(): ForkAction<T, R>[] {
    if (this.started) return [];
    this.started = true;
    const actions: ForkAction<T, R>[] = this.isInvite ? [{ kind: 'send-trying' }] : [];
    return actions.concat(this.advance());
  }

  /**
   * A provisional response on a branch. 100 is hop-by-hop and dropped; 101–199 are forwarded and,
   * for INVITE, restart Timer C (RFC 3261 §16.7 steps 2 and 5).
   */
  onProvisionalResponse(branchId: number, response: R, status: number): ForkAction<T, R>[] {
    if (this.branches[branchId] === undefined || this.branches[branchId] === 'final') return [];
    this.branches[branchId] = 'proceeding';
    const actions: ForkAction<T, R>[] = [];
    if (status === 100) return actions;
    if (this.isInvite) actions.push({ kind: 'start-timer-c', branchId });
    if (!this.finalSent) actions.push({ kind: 'forward-response', branchId, response });
    return actions;
  }

  /** A final response (≥ 200) on a branch. */
  onFinalResponse(branchId: number, response: R, status: number): ForkAction<T, R>[] {
    const state = this.branches[branchId];
    if (state === undefined) return [];
    const is2xx = status >= 200 && status < 300;
    if (state === 'final') {
      // RFC 3261 §16.7 step 5: an INVITE 2xx is forwarded even when it arrives after the branch was
      // written off (Timer C, CANCEL): the UAS has already accepted the call.
      return this.isInvite && is2xx ? [{ kind: 'forward-response', branchId, response }] : [];
    }
    this.branches[branchId] = 'final';
    const actions: ForkAction<T, R>[] = this.isInvite ? [{ kind: 'stop-timer-c', branchId }] : [];
    if (is2xx) {
      // RFC 3261 §16.7 step 5: every INVITE 2xx is forwarded at once; a non-INVITE transaction takes one final.
      if (this.isInvite || !this.finalSent) actions.push({ kind: 'forward-response', branchId, response });
      this.finalSent = true;
      actions.push(...this.stopAndCancelOthers(branchId));
      return actions;
    }
    this.collected.push({ status, response });
    if (status >= 600) actions.push(...this.stopAndCancelOthers(branchId));
    return actions.concat(this.advance());
  }

  /**
   * A branch ended without a response from the next hop: client transaction timeout (408,
   * RFC 3261 §16.7 step 2) or impossible delivery (480, SPEC PTH-3; 503, RFC 3261 §16.9).
   */
  onBranchFailed(branchId: number, status: number): ForkAction<T, R>[] {
    if (this.branches[branchId] === undefined || this.branches[branchId] === 'final') return [];
    this.branches[branchId] = 'final';
    this.collected.push({ status, response: undefined });
    const actions: ForkAction<T, R>[] = this.isInvite ? [{ kind: 'stop-timer-c', branchId }] : [];
    return actions.concat(this.advance());
  }

  /**
   * Timer C fired on an INVITE branch: it is CANCELled and counts as 408 (RFC 3261 §16.8, SPEC LKP-6).
   */
  onTimerC(branchId: number): ForkAction<T, R>[] {
    if (this.branches[branchId] === undefined || this.branches[branchId] === 'final') return [];
    this.branches[branchId] = 'final';
    this.collected.push({ status: 408, response: undefined });
    const actions: ForkAction<T, R>[] = [];
    if (!this.cancelled.has(branchId)) {
      this.cancelled.add(branchId);
      actions.push({ kind: 'cancel-branch', branchId });
    }
    return actions.concat(this.advance());
  }

  /**
   * A CANCEL for the forked INVITE arrived from upstream (RFC 3261 §16.10, SPEC LKP-7): every pending
   * branch is CANCELled, no new branch starts, and the INVITE gets 487 once all branches are final,
   * unless one answered 2xx. The 200 to the CANCEL itself is the caller's.
   */
  onUpstreamCancel(): ForkAction<T, R>[] {
    if (!this.isInvite || this.finalSent) return [];
    this.cancelledUpstream = true;
    return this.stopAndCancelOthers(-1).concat(this.advance());
  }

  private stopAndCancelOthers(exceptBranchId: number): ForkAction<T, R>[] {
    this.stopped = true;
    if (!this.isInvite) return [];
    const actions: ForkAction<T, R>[] = [];
    this.branches.forEach((state, branchId) => {
      if (branchId === exceptBranchId || state === 'final' || this.cancelled.has(branchId)) return;
      this.cancelled.add(branchId);
      actions.push({ kind: 'cancel-branch', branchId });
    });
    return actions;
  }

  /** Starts the next group when all branches are final, or sends the final response (RFC 3261 §16.7 step 6). */
  private advance(): ForkAction<T, R>[] {
    if (this.branches.some((state) => state !== 'final')) return [];
    if (!this.stopped && this.nextGroup < this.groups.length) return this.startGroup();
    if (this.finalSent) return [];
    this.finalSent = true;
    if (this.cancelledUpstream) return [{ kind: 'send-final', status: 487, response: undefined, challengeSources: [] }];
    const best = selectBestResponse(this.collected, (c) => c.status);
    if (best.kind === 'timeout') return [{ kind: 'send-final', status: 408, response: undefined, challengeSources: [] }];
    return [
      {
        kind: 'send-final',
        status: best.status,
        response: best.response.response,
        challengeSources: best.challengeSources.flatMap((c) => (c.response === undefined ? [] : [c.response])),
      },
    ];
  }

  private startGroup(): ForkAction<T, R>[] {
    const actions: ForkAction<T, R>[] = [];
    let group = this.groups[this.nextGroup++] ?? [];
    // An empty group would stall the machine; skip to the next non-empty one.
    while (group.length === 0 && this.nextGroup < this.groups.length) group = this.groups[this.nextGroup++] ?? [];
    for (const target of group) {
      const branchId = this.branches.length;
      this.branches.push('calling');
      actions.push({ kind: 'start-branch', branchId, target });
      if (this.isInvite) actions.push({ kind: 'start-timer-c', branchId });
    }
    if (group.length === 0) return actions.concat(this.advance());
    return actions;
  }
}
