import { aorOf, checkRegister, contactExpiry } from '../../../../functions/core/register/check-register';
import { decideRegister } from '../../../../functions/core/register/decide-register';
import { expectLocal, headerValue, registerRequest, testConfig, testIds, testRecord } from '../../../support/core-builders';
import type { RegisterRequest } from '../../../../functions/core/contract';

function rejectionOf(request: Partial<RegisterRequest>, overrides: Record<string, unknown> = {}) {
  const outcome = decideRegister(testConfig(overrides), registerRequest(request), undefined, 0, testIds());
  return { outcome, response: expectLocal(outcome, 'reject') };
}

describe('checkRegister', () => {
  describe('REG-2: the AoR', () => {
    it.each([
      ['<sip:Alice@EXAMPLE.com:5070;x=1>', 'Alice@example.com'],
      ['"Alice" <sips:alice@Example.COM>;tag=9', 'alice@example.com'],
      ['sip:al%69ce@example.com', 'alice@example.com'],
      ['<sip:%41lice@example.com;user=phone>', 'Alice@example.com'],
    ])('REG-2: To %s → %s', (to, aor) => {
      // Act
      const result = checkRegister(testConfig(), registerRequest({ to }));

      // Assess
      expect(result.ok && result.register.aor).toBe(aor);
    });

    it('REG-2: the user part compares case-sensitively, so Alice and alice are different AoRs', () => {
      // Act
      const upper = aorOf('<sip:Alice@example.com>');
      const lower = aorOf('<sip:alice@example.com>');

      // Assess
      expect(upper).toEqual({ user: 'Alice', host: 'example.com' });
      expect(lower).toEqual({ user: 'alice', host: 'example.com' });
    });

    it('REG-2: the Request-URI is not checked', () => {
      // Act
      const result = checkRegister(testConfig(), registerRequest({ requestUri: 'sip:elsewhere.example.org' }));

      // Assess
      expect(result.ok).toBe(true);
    });
  });

  describe('REG-3: each contact expiry', () => {
    it.each<[string, Partial<RegisterRequest>, Record<string, unknown>, number]>([
      ['param beats header', { contacts: ['<sip:a@192.0.2.7>;expires=120'], expires: '300' }, {}, 120],
      ['header beats default', { contacts: ['<sip:a@192.0.2.7>'], expires: '300' }, {}, 300],
      ['default when neither', { contacts: ['<sip:a@192.0.2.7>'] }, { defaultExpires: 1800 }, 1800],
      ['a non-integer param falls back to the header', { contacts: ['<sip:a@192.0.2.7>;expires=soon'], expires: '90' }, {}, 90],
      ['5 is raised to minExpires 10', { contacts: ['<sip:a@192.0.2.7>;expires=5'] }, {}, 10],
      ['7200 is lowered to maxExpires 3600', { contacts: ['<sip:a@192.0.2.7>;expires=7200'] }, {}, 3600],
      ['0 stays 0', { contacts: ['<sip:a@192.0.2.7>;expires=0'] }, {}, 0],
      ['above 2^32−1 with no max becomes 2^32−1', { contacts: ['<sip:a@192.0.2.7>;expires=99999999999'] }, { maxExpires: 0 }, 4294967295],
    ])('REG-3: %s', (_name, request, overrides, expected) => {
      // Act
      const result = checkRegister(testConfig(overrides), registerRequest(request));

      // Assess
      expect(result.ok && result.register.contacts[0].expiresSec).toBe(expected);
    });

    it('REG-3: min and max of 0 disable clamping', () => {
      // Act
      const expiry = contactExpiry(testConfig({ minExpires: 0, maxExpires: 0, defaultExpires: 60 }), 1, undefined);

      // Assess
      expect(expiry).toEqual({ rawExpiresSec: 1, expiresSec: 1 });
    });
  });

  it('REG-5: a URI named twice in one REGISTER: the last wins', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@Phone.example:5062>;expires=60', '<sip:alice@phone.example:5062>;expires=0'] });

    // Act
    const result = checkRegister(testConfig(), request);

    // Assess
    expect(result.ok && result.register.contacts.map((c) => [c.uriText, c.expiresSec])).toEqual([['sip:alice@phone.example:5062', 0]]);
  });

  it('REG-5: host case is ignored when de-duplicating, user case is not', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@HOST.example>', '<sip:alice@host.example>', '<sip:Alice@host.example>'] });

    // Act
    const result = checkRegister(testConfig(), request);

    // Assess
    expect(result.ok && result.register.contacts.map((c) => c.uriText)).toEqual(['sip:alice@host.example', 'sip:Alice@host.example']);
  });

  describe('ERR-6 rows of the stateless checks (ERR-1: every one carries P-Registrar-Error)', () => {
    it.each<[string, Partial<RegisterRequest>, Record<string, unknown>, number, string]>([
      ['To without user', { to: '<sip:example.com>' }, {}, 400, 'Error while parsing AOR'],
      ['To of another scheme', { to: '<tel:+15551234>' }, {}, 400, 'Error while parsing AOR'],
      ['username too long', { to: `<sip:${'u'.repeat(65)}@example.com>` }, {}, 400, 'Address Of Record too long'],
      ['domain too long', { to: `<sip:alice@${'d'.repeat(65)}>` }, {}, 400, 'Address Of Record too long'],
      ['user+1+host too long', { to: `<sip:${'u'.repeat(10)}@${'d'.repeat(10)}>` }, { maxAorLength: 20 }, 400, 'Address Of Record too long'],
      ['contact unparsable', { contacts: ['<sip:alice@192.0.2.7'] }, {}, 400, 'Bad Contact'],
      ['contact URI too long', { contacts: [`<sip:${'a'.repeat(300)}@192.0.2.7>`] }, {}, 400, 'Contact/received too long'],
      ['star without Expires', { contacts: ['*'] }, {}, 400, '* used in contact and expires is not zero'],
      ['star with Expires 60', { contacts: ['*'], expires: '60' }, {}, 400, '* used in contact and expires is not zero'],
      ['star with another contact', { contacts: ['*', '<sip:a@192.0.2.7>'], expires: '0' }, {}, 400, '* used in contact and more than 1 contact'],
      ['Expires not an integer', { expires: 'soon' }, {}, 400, 'Invalid Expires header'],
      ['q above 1', { contacts: ['<sip:a@192.0.2.7>;q=1.5'] }, {}, 400, 'Invalid q param in contact'],
      ['q with 4 decimals', { contacts: ['<sip:a@192.0.2.7>;q=0.1234'] }, {}, 400, 'Invalid q param in contact'],
      ['first Path URI without lr', { path: ['<sip:edge.example.com>'] }, {}, 400, 'Path parse error'],
      ['Path unparsable', { path: ['<sip:edge.example.com;lr'] }, {}, 400, 'Path parse error'],
      ['strict Path without Supported: path', { path: ['<sip:edge.example.com;lr>'] }, { pathMode: 'strict' }, 420, 'No support for found Path indicated'],
      ['too brief with reject', { contacts: ['<sip:a@192.0.2.7>;expires=5'] }, { tooBrief: 'reject' }, 423, 'Interval too brief'],
    ])('ERR-6: %s', (_name, request, overrides, status, text) => {
      // Act
      const { response } = rejectionOf(request, overrides);

      // Assess
      expect(response.status).toBe(status);
      expect(response.reason).toBe(text);
      expect(headerValue(response.headers, 'P-Registrar-Error')).toBe(text);
      expect(response.toTag).toMatch(/^[0-9a-f]{12}$/);
    });
  });

  it('REG-1: with two faults, the earlier check answers (AoR before Contact)', () => {
    // Act
    const { response } = rejectionOf({ to: '<sip:example.com>', contacts: ['<bad'] });

    // Assess
    expect(response.reason).toBe('Error while parsing AOR');
  });

  it('REG-1: with two faults, the earlier check answers (Contact before Expires before q)', () => {
    // Act
    const contactFirst = rejectionOf({ contacts: ['<bad'], expires: 'x' }).response;
    const expiresFirst = rejectionOf({ contacts: ['<sip:a@192.0.2.7>;q=7'], expires: 'x' }).response;
    const qFirst = rejectionOf({ contacts: ['<sip:a@192.0.2.7>;q=7'], path: ['<sip:edge.example.com>'] }).response;

    // Assess
    expect([contactFirst.reason, expiresFirst.reason, qFirst.reason]).toEqual(['Bad Contact', 'Invalid Expires header', 'Invalid q param in contact']);
  });

  it('REG-1: Path (PTH-5) is checked before REG-4', () => {
    // Act
    const { response } = rejectionOf(
      { contacts: ['<sip:a@192.0.2.7>;expires=5'], path: ['<sip:edge.example.com;lr>'] },
      { tooBrief: 'reject', pathMode: 'strict' },
    );

    // Assess
    expect(response.status).toBe(420);
    expect(headerValue(response.headers, 'Unsupported')).toBe('path');
  });

  it('REG-1 step 4: every contact URI is length-checked, the first one included (Δ OpenSIPS skips it)', () => {
    // Act
    const { response } = rejectionOf({ contacts: [`<sip:${'a'.repeat(300)}@192.0.2.7>`, '<sip:b@192.0.2.8>'] });

    // Assess
    expect(response.reason).toBe('Contact/received too long');
  });

  it('REG-4: reject: expires=5 → 423 Min-Expires: 10, no state', () => {
    // Prepare
    const record = testRecord();

    // Act
    const { outcome, response } = rejectionOf({ contacts: ['<sip:a@192.0.2.7>;expires=5'] }, { tooBrief: 'reject' });
    const unchanged = decideRegister(testConfig({ tooBrief: 'reject' }), registerRequest({ expires: '5' }), record, 0, testIds());

    // Assess
    expect(response.status).toBe(423);
    expect(headerValue(response.headers, 'Min-Expires')).toBe('10');
    expect(outcome.nextRecord).toBeUndefined();
    expect(unchanged.nextRecord).toBeUndefined();
  });

  it('REG-4: with tooBrief clamp (OpenSIPS behaviour) expires=5 is accepted as 10', () => {
    // Act
    const result = checkRegister(testConfig(), registerRequest({ contacts: ['<sip:a@192.0.2.7>;expires=5'] }));

    // Assess
    expect(result.ok && result.register.contacts[0].expiresSec).toBe(10);
  });

  it('REG-4: expires=0 is never too brief', () => {
    // Act
    const result = checkRegister(testConfig({ tooBrief: 'reject' }), registerRequest({ contacts: ['<sip:a@192.0.2.7>;expires=0'] }));

    // Assess
    expect(result.ok).toBe(true);
  });

  it('REG-8: a valid star is Contact * alone with Expires: 0', () => {
    // Act
    const result = checkRegister(testConfig(), registerRequest({ contacts: ['*'], expires: '0' }));

    // Assess
    expect(result.ok && result.register.kind).toBe('star');
  });

  it('PTH-5: lazy mode accepts Path without Supported: path', () => {
    // Act
    const result = checkRegister(testConfig(), registerRequest({ path: ['<sip:edge.example.com;lr>'] }));

    // Assess
    expect(result.ok && result.register.path).toEqual(['<sip:edge.example.com;lr>']);
  });
});
