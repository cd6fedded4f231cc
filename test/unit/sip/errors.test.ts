import { SipError, SipParseError } from '../../../sip-gateway/src/sip/errors';
import { DEFAULT_SIP_LIMITS } from '../../../sip-gateway/src/sip/limits';

describe('Module: errors', () => {
  describe('Class: SipParseError', () => {
    it('ERR-3: is answerable only with a response context', () => {
      // Prepare
      const ctx = { via: ['SIP/2.0/UDP h;branch=z9hG4bK1'], from: '<sip:a@b>;tag=1', to: '<sip:a@b>', callId: 'c', cseq: '1 REGISTER' };
      // Act
      const bare = new SipParseError('Bad CSeq header', { code: 'bad-header', header: 'CSeq' });
      const withCtx = bare.withResponseContext(ctx);
      // Assess
      expect(bare).toBeInstanceOf(SipError);
      expect(bare.name).toBe('SipParseError');
      expect(bare.answerable).toBe(false);
      expect(withCtx.answerable).toBe(true);
      expect(withCtx.responseContext).toEqual(ctx);
      expect(withCtx.reason).toBe('Bad CSeq header');
      expect(withCtx.header).toBe('CSeq');
    });

    it.each([['message-too-large', 513], ['unsupported-version', 505], ['bad-header', 400], ['malformed', 400]] as const)(
      'ERR-4: code %s answers %d', (code, status) => {
        // Act
        const err = new SipParseError('x', { code });
        // Assess
        expect(err.statusCode).toBe(status);
      });
  });

  describe('Constant: DEFAULT_SIP_LIMITS', () => {
    it('has the documented defaults and is frozen', () => {
      // Assess
      expect(DEFAULT_SIP_LIMITS).toEqual({ maxMessageBytes: 65535, maxHeaderLines: 200, maxLineBytes: 8192 });
      expect(Object.isFrozen(DEFAULT_SIP_LIMITS)).toBe(true);
    });
  });
});
