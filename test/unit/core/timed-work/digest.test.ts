import { digestAuthorization, parseDigestChallenge } from '../../../../functions/core/timed-work/digest';

function responseOf(authorization: string | undefined): string | undefined {
  return /response="([0-9a-f]+)"/.exec(authorization ?? '')?.[1];
}

describe('digest', () => {
  it('DRG-11: RFC 2617 §3.5 example (MD5, qop=auth) gives the published response', () => {
    // Prepare
    const challenge = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    )!;

    // Act
    const authorization = digestAuthorization(
      challenge,
      { username: 'Mufasa', password: 'Circle Of Life' },
      { method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b', nonceCount: 1 },
    );

    // Assess
    expect(responseOf(authorization)).toBe('6629fae49393a05397450978507c4ef1');
    expect(authorization).toContain('qop=auth, nc=00000001, cnonce="0a4f113b"');
    expect(authorization).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it.each([
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ])('DRG-11: RFC 7616 §3.9.1 example with %s gives the published response', (algorithm, expected) => {
    // Prepare
    const challenge = parseDigestChallenge(
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
    )!;

    // Act
    const authorization = digestAuthorization(
      challenge,
      { username: 'Mufasa', password: 'Circle of Life' },
      { method: 'GET', uri: '/dir/index.html', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nonceCount: 1 },
    );

    // Assess
    expect(responseOf(authorization)).toBe(expected);
    expect(authorization).toContain(`algorithm=${algorithm}`);
  });

  it('DRG-11: without qop the RFC 2069 form is used (no nc, no cnonce)', () => {
    // Prepare
    const challenge = parseDigestChallenge('Digest realm="r", nonce="n"')!;

    // Act
    const authorization = digestAuthorization(challenge, { username: 'u', password: 'p' }, { method: 'REGISTER', uri: 'sip:r', cnonce: 'c', nonceCount: 1 });

    // Assess
    expect(authorization).toMatch(/^Digest username="u", realm="r", nonce="n", uri="sip:r", response="[0-9a-f]{32}", algorithm=MD5$/);
  });

  it('DRG-11: -sess variants differ from the plain algorithm; unknown algorithms are not answered', () => {
    // Prepare
    const plain = parseDigestChallenge('Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256')!;
    const session = parseDigestChallenge('Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256-sess')!;
    const unknown = parseDigestChallenge('Digest realm="r", nonce="n", algorithm=AKAv1-MD5')!;
    const request = { method: 'REGISTER', uri: 'sip:r', cnonce: 'c', nonceCount: 1 };

    // Act
    const plainResponse = responseOf(digestAuthorization(plain, { username: 'u', password: 'p' }, request));
    const sessionResponse = responseOf(digestAuthorization(session, { username: 'u', password: 'p' }, request));
    const unknownAnswer = digestAuthorization(unknown, { username: 'u', password: 'p' }, request);

    // Assess
    expect(plainResponse).toHaveLength(64);
    expect(sessionResponse).toHaveLength(64);
    expect(sessionResponse).not.toBe(plainResponse);
    expect(unknownAnswer).toBeUndefined();
  });

  it('DRG-11: a non-Digest or incomplete challenge is not parsed', () => {
    // Act
    const results = [
      parseDigestChallenge('Basic realm="r"'),
      parseDigestChallenge('Digest nonce="n"'),
      parseDigestChallenge('Digest realm="r"'),
    ];

    // Assess
    expect(results).toEqual([undefined, undefined, undefined]);
  });
});
