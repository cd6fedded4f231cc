import {
  ConfigError,
  MidRegistrarError,
  REGISTRAR_ERRORS,
  badHeaderError,
  missingHeaderError,
  registrarErrorResponse,
} from '../../../../functions/core/errors';

describe('ERR-6 table', () => {
  it.each<[keyof typeof REGISTRAR_ERRORS, number, string]>([
    ['aorUnparsable', 400, 'Error while parsing AOR'],
    ['aorTooLong', 400, 'Address Of Record too long'],
    ['badContact', 400, 'Bad Contact'],
    ['contactTooLong', 400, 'Contact/received too long'],
    ['starExpiresNotZero', 400, '* used in contact and expires is not zero'],
    ['starWithOtherContacts', 400, '* used in contact and more than 1 contact'],
    ['badExpires', 400, 'Invalid Expires header'],
    ['badQ', 400, 'Invalid q param in contact'],
    ['badPath', 400, 'Path parse error'],
    ['pathNotSupported', 420, 'No support for found Path indicated'],
    ['intervalTooBrief', 423, 'Interval too brief'],
    ['badCseq', 400, 'Invalid CSeq number'],
    ['tooManyContacts', 503, 'Too many registered contacts'],
    ['tooManyHops', 483, 'Too many hops'],
    ['serviceUnavailable', 503, 'Service unavailable'],
    ['upstreamTimeout', 504, 'Upstream timeout'],
    ['internalError', 500, 'Internal error'],
    ['messageTooLarge', 513, 'Message too large'],
    ['forbidden', 403, 'Forbidden'],
    ['notFound', 404, 'Not found'],
    ['noValidBinding', 480, 'No valid binding'],
    ['flowUnavailable', 480, 'Flow unavailable'],
  ])('ERR-6: %s is %s with P-Registrar-Error "%s" (ERR-1), Retry-After on 5xx (ERR-2)', (kind, status, text) => {
    // Act
    const response = registrarErrorResponse(REGISTRAR_ERRORS[kind], 30_000, 'tag1');

    // Assess
    expect([response.status, response.reason, response.toTag]).toEqual([status, text, 'tag1']);
    expect(response.headers[0]).toEqual(['P-Registrar-Error', text]);
    const retryAfter = response.headers.filter(([name]) => name === 'Retry-After');
    expect(retryAfter).toEqual(status >= 500 ? [['Retry-After', '30']] : []);
  });

  it('ERR-6: header rows name the header', () => {
    // Act / Assess
    expect(missingHeaderError('Call-ID')).toEqual({ status: 400, text: 'Call-ID header not found' });
    expect(badHeaderError('CSeq')).toEqual({ status: 400, text: 'Bad CSeq header' });
  });

  it('ERR-2: Retry-After is whole seconds of retryAfter, extra headers follow', () => {
    // Act
    const response = registrarErrorResponse(REGISTRAR_ERRORS.tooManyContacts, 7_000, 't', [['X-Extra', '1']]);

    // Assess
    expect(response.headers).toEqual([['P-Registrar-Error', 'Too many registered contacts'], ['Retry-After', '7'], ['X-Extra', '1']]);
  });

  it('ConfigError is a MidRegistrarError with a name and the key', () => {
    // Act
    const error = new ConfigError('mode', 'must be 0, 1 or 2\n(got 3)');

    // Assess
    expect(error).toBeInstanceOf(MidRegistrarError);
    expect([error.name, error.key]).toEqual(['ConfigError', 'mode']);
    expect(error.message).toBe('invalid configuration key "mode": must be 0, 1 or 2 (got 3)');
  });
});
