import { selectBestResponse } from '../../../sip-gateway/src/proxy/best-response';

interface FakeResponse {
  status: number;
  id: string;
}

const r = (status: number, id = String(status)): FakeResponse => ({ status, id });
const statusOf = (response: FakeResponse): number => response.status;

describe('Function: selectBestResponse', () => {
  it('LKP-6: a 6xx wins over every other class', () => {
    // Prepare
    const responses = [r(404), r(302), r(603), r(486)];

    // Act
    const best = selectBestResponse(responses, statusOf);

    // Assess
    expect(best).toMatchObject({ kind: 'forward', status: 603, response: { id: '603' } });
  });

  it('LKP-6: without 6xx the lowest class wins, ties to the earliest', () => {
    // Prepare
    const responses = [r(500), r(486, 'first'), r(404, 'second'), r(302)];

    // Act
    const best = selectBestResponse(responses.slice(0, 3), statusOf);
    const withRedirect = selectBestResponse(responses, statusOf);

    // Assess
    expect(best).toMatchObject({ status: 486, response: { id: 'first' } });
    expect(withRedirect).toMatchObject({ status: 302 });
  });

  it.each([
    [[486, 484, 420, 415, 407], 407],
    [[486, 484, 420, 415], 415],
    [[486, 484, 420], 420],
    [[486, 404, 484], 484],
    [[480, 401, 407], 401],
  ])('LKP-6: within 4xx %j prefers %i', (statuses, expected) => {
    // Prepare
    const responses = statuses.map((status) => r(status));

    // Act
    const best = selectBestResponse(responses, statusOf);

    // Assess
    expect(best).toMatchObject({ kind: 'forward', status: expected });
  });

  it('LKP-6: 401 and 407 collect every challenge source', () => {
    // Prepare
    const responses = [r(401, 'a'), r(486), r(407, 'b'), r(401, 'c')];

    // Act
    const best = selectBestResponse(responses, statusOf);

    // Assess
    expect(best.kind === 'forward' && best.challengeSources.map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  it('LKP-6: a chosen 503 goes out as 500; other statuses carry no challenges', () => {
    // Prepare
    const responses = [r(503)];

    // Act
    const best = selectBestResponse(responses, statusOf);

    // Assess
    expect(best).toEqual({ kind: 'forward', status: 500, response: r(503), challengeSources: [] });
  });

  it('LKP-6: no response at all gives 408', () => {
    // Act
    const best = selectBestResponse([], statusOf);

    // Assess
    expect(best).toEqual({ kind: 'timeout', status: 408 });
  });
});
