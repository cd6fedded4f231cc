import { ForkingContext, groupTargetsByQ, type ForkAction } from '../../../sip-gateway/src/proxy/forking-context';

type Action = ForkAction<string, string>;

const kinds = (actions: Action[]): string[] =>
  actions.map((a) => ('branchId' in a ? `${a.kind}:${a.branchId}` : a.kind === 'send-final' ? `final:${a.status}` : a.kind));

describe('Function: groupTargetsByQ', () => {
  it('LKP-5: groups by descending q, no q counting as 1.0, order kept within a group', () => {
    // Prepare
    const targets = [
      { id: 'a', q: 0.5 },
      { id: 'b', q: undefined },
      { id: 'c', q: 0.5 },
      { id: 'd', q: 1 },
      { id: 'e', q: 0.1 },
    ];

    // Act
    const groups = groupTargetsByQ(targets, (t) => t.q);

    // Assess
    expect(groups.map((g) => g.map((t) => t.id))).toEqual([['b', 'd'], ['a', 'c'], ['e']]);
  });
});

describe('Class: ForkingContext', () => {
  describe('INVITE', () => {
    it('LKP-6: answers 100 at once and starts the first group in parallel with Timer C', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B'], ['C']] });

      // Act
      const actions = fork.start();

      // Assess
      expect(kinds(actions)).toEqual(['send-trying', 'start-branch:0', 'start-timer-c:0', 'start-branch:1', 'start-timer-c:1']);
      expect(actions.filter((a) => a.kind === 'start-branch').map((a) => a.kind === 'start-branch' && a.target)).toEqual(['A', 'B']);
    });

    it('LKP-5: the next group starts only when every branch of the current one failed', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B'], ['C']] });
      fork.start();

      // Act
      const afterFirst = fork.onFinalResponse(0, '486', 486);
      const afterSecond = fork.onFinalResponse(1, '404', 404);

      // Assess
      expect(kinds(afterFirst)).toEqual(['stop-timer-c:0']);
      expect(kinds(afterSecond)).toEqual(['stop-timer-c:1', 'start-branch:2', 'start-timer-c:2']);
    });

    it('LKP-6: 100 is dropped, 101-199 forwarded and restart Timer C', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A']] });
      fork.start();

      // Act
      const trying = fork.onProvisionalResponse(0, '100', 100);
      const ringing = fork.onProvisionalResponse(0, '180', 180);

      // Assess
      expect(trying).toEqual([]);
      expect(ringing).toEqual([{ kind: 'start-timer-c', branchId: 0 }, { kind: 'forward-response', branchId: 0, response: '180' }]);
    });

    it('LKP-6: the first 2xx is forwarded, CANCELs the other branches and stops new groups; later 2xx forwarded too', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B', 'C'], ['D']] });
      fork.start();
      fork.onFinalResponse(2, '480', 480);

      // Act
      const first = fork.onFinalResponse(0, '200a', 200);
      const second = fork.onFinalResponse(1, '200b', 200);

      // Assess
      expect(kinds(first)).toEqual(['stop-timer-c:0', 'forward-response:0', 'cancel-branch:1']);
      expect(kinds(second)).toEqual(['stop-timer-c:1', 'forward-response:1']);
      expect(fork.isFinished).toBe(true);
    });

    it('LKP-6: 487 of a branch CANCELled after a 2xx is not forwarded', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B']] });
      fork.start();
      fork.onFinalResponse(0, '200', 200);

      // Act
      const actions = fork.onFinalResponse(1, '487', 487);

      // Assess
      expect(kinds(actions)).toEqual(['stop-timer-c:1']);
    });

    it('LKP-6: a 6xx CANCELs the others, stops new groups, and wins once all are final', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B'], ['C']] });
      fork.start();

      // Act
      const decline = fork.onFinalResponse(0, '603', 603);
      const last = fork.onFinalResponse(1, '487', 487);

      // Assess
      expect(kinds(decline)).toEqual(['stop-timer-c:0', 'cancel-branch:1']);
      expect(last).toContainEqual({ kind: 'send-final', status: 603, response: '603', challengeSources: [] });
      expect(kinds(last)).not.toContain('start-branch:2');
    });

    it('LKP-6: with all branches final and no 2xx the best response goes out, challenges merged', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B', 'C']] });
      fork.start();
      fork.onFinalResponse(0, '401a', 401);
      fork.onFinalResponse(1, '486', 486);

      // Act
      const actions = fork.onFinalResponse(2, '407c', 407);

      // Assess
      expect(actions).toContainEqual({ kind: 'send-final', status: 401, response: '401a', challengeSources: ['401a', '407c'] });
    });

    it('LKP-6: Timer C CANCELs the branch and counts as 408; its late 487 is ignored', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A']] });
      fork.start();
      fork.onProvisionalResponse(0, '180', 180);

      // Act
      const timeout = fork.onTimerC(0);
      const late = fork.onFinalResponse(0, '487', 487);

      // Assess
      expect(timeout).toEqual([
        { kind: 'cancel-branch', branchId: 0 },
        { kind: 'send-final', status: 408, response: undefined, challengeSources: [] },
      ]);
      expect(late).toEqual([]);
    });

    it('LKP-6: a 2xx after Timer C wrote the branch off is still forwarded', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A']] });
      fork.start();
      fork.onTimerC(0);

      // Act
      const actions = fork.onFinalResponse(0, '200', 200);

      // Assess
      expect(actions).toEqual([{ kind: 'forward-response', branchId: 0, response: '200' }]);
    });

    it('LKP-7: upstream CANCEL cancels all branches, starts none, and the INVITE gets 487', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B'], ['C']] });
      fork.start();

      // Act
      const cancel = fork.onUpstreamCancel();
      fork.onFinalResponse(0, '487', 487);
      const last = fork.onFinalResponse(1, '487', 487);

      // Assess
      expect(kinds(cancel)).toEqual(['cancel-branch:0', 'cancel-branch:1']);
      expect(kinds(last)).toEqual(['stop-timer-c:1', 'final:487']);
    });

    it('LKP-7: when a branch answered 2xx despite the CANCEL, no 487 follows', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A', 'B']] });
      fork.start();
      fork.onUpstreamCancel();

      // Act
      const ok = fork.onFinalResponse(0, '200', 200);
      const last = fork.onFinalResponse(1, '487', 487);

      // Assess
      expect(kinds(ok)).toEqual(['stop-timer-c:0', 'forward-response:0']);
      expect(kinds(last)).toEqual(['stop-timer-c:1']);
    });

    it('LKP-6: branch transport failure counts with its status (PTH-3 480)', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [['A']] });
      fork.start();

      // Act
      const actions = fork.onBranchFailed(0, 480);

      // Assess
      expect(kinds(actions)).toEqual(['stop-timer-c:0', 'final:480']);
    });

    it('LKP-6: no target at all gives 408', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'INVITE', groups: [] });

      // Act
      const actions = fork.start();

      // Assess
      expect(kinds(actions)).toEqual(['send-trying', 'final:408']);
    });
  });

  describe('MESSAGE', () => {
    it('LKP-8: non-INVITE forks without 100, Timer C or CANCEL; first 2xx forwarded once', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'MESSAGE', groups: [['A', 'B'], ['C']] });

      // Act
      const start = fork.start();
      const first = fork.onFinalResponse(0, '200a', 200);
      const second = fork.onFinalResponse(1, '202b', 202);
      const cancel = fork.onUpstreamCancel();

      // Assess
      expect(kinds(start)).toEqual(['start-branch:0', 'start-branch:1']);
      expect(kinds(first)).toEqual(['forward-response:0']);
      expect(second).toEqual([]);
      expect(cancel).toEqual([]);
    });

    it('LKP-8: all non-2xx: next group, then the best response', () => {
      // Prepare
      const fork = new ForkingContext<string, string>({ method: 'MESSAGE', groups: [['A'], ['B']] });
      fork.start();

      // Act
      const next = fork.onBranchFailed(0, 408);
      const last = fork.onFinalResponse(1, '503', 503);

      // Assess
      expect(kinds(next)).toEqual(['start-branch:1']);
      expect(last).toEqual([{ kind: 'send-final', status: 408, response: undefined, challengeSources: [] }]);
    });
  });
});
