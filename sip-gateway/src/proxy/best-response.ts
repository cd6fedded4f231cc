/**
 * Best-response selection of a forking proxy (RFC 3261 §16.7 step 6, SPEC LKP-6).
 *
 * @remarks
 * Pure: works on any response representation through a status accessor, so the forking context and
 * its tests need no codec. The caller builds the wire response from the returned choice.
 */

/** Statuses a proxy SHOULD prefer within 4xx (RFC 3261 §16.7 step 6), in SPEC LKP-6 order. */
const PREFERRED_4XX: readonly (readonly number[])[] = [[401, 407], [415], [420], [484]];

/** What to send upstream once every branch has a final response and none was 2xx. */
export type BestResponse<R> =
  | {
      kind: 'forward';
      /** The chosen branch response. */
      response: R;
      /** Status to send: the chosen one, except 503 becomes 500 (RFC 3261 §16.7 step 6). */
      status: number;
      /**
       * For 401/407: every 401/407 response collected, whose WWW-Authenticate and
       * Proxy-Authenticate values are all copied into the forwarded one (RFC 3261 §16.7 step 7).
       */
      challengeSources: R[];
    }
  /** No response at all was collected: the proxy answers 408 itself (RFC 3261 §16.7 step 6). */
  | { kind: 'timeout'; status: 408 };

function rank4xx(status: number): number {
  const index = PREFERRED_4XX.findIndex((group) => group.includes(status));
  return index < 0 ? PREFERRED_4XX.length : index;
}

/**
 * Picks the response to forward from the final (≥ 300) responses of every branch.
 *
 * A 6xx wins if any; otherwise the lowest class; within 4xx 401/407, then 415, 420, 484, then any
 * other; ties go to the earliest received. A 503 is sent as 500 so the client does not take it for
 * the proxy being overloaded (RFC 3261 §16.7 step 6).
 *
 * @param responses - final responses in arrival order (synthetic 408s for timed-out branches included)
 * @param statusOf - reads a response's status code
 * @example
 * selectBestResponse([r486, r404], (r) => r.status); // → { kind: 'forward', response: r404, status: 404, … }
 */
export function selectBestResponse<R>(responses: readonly R[], statusOf: (response: R) => number): BestResponse<R> {
  let best: R | undefined;
  let bestKey: [number, number] | undefined;
  for (const response of responses) {
    const status = statusOf(response);
    const statusClass = Math.floor(status / 100);
    // 6xx sorts before every other class; within 4xx the preferred statuses come first.
    const key: [number, number] = [statusClass === 6 ? 0 : statusClass, statusClass === 4 ? rank4xx(status) : 0];
    if (bestKey === undefined || key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
      best = response;
      bestKey = key;
    }
  }
  if (best === undefined) return { kind: 'timeout', status: 408 };
  const status = statusOf(best);
  const challengeSources =
    status === 401 || status === 407 ? responses.filter((r) => statusOf(r) === 401 || statusOf(r) === 407) : [];
  return { kind: 'forward', response: best, status: status === 503 ? 500 : status, challengeSources };
}
