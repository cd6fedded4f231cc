import { timedWorkOutcomeFromResponse } from '../../../../functions/core/timed-work/outcome-from-response';
import type { OutgoingRegister } from '../../../../functions/core/timed-work/timed-work-types';

function send(purpose: OutgoingRegister['purpose']): OutgoingRegister {
  return {
    workId: 'w',
    attemptId: 'a',
    purpose,
    requestUri: 'sip:registrar.example.net',
    sourceUri: 'sip:203.0.113.10:5060',
    timeoutMs: 10_000,
    headers: [],
    contactUri: 'sip:alice@203.0.113.10:5060;ctid=11',
    expiresSec: purpose === 'refresh' ? 3600 : 0,
  };
}

describe('timedWorkOutcomeFromResponse', () => {
  it('RPL-4: a refresh 2xx takes g from our contact (URI equality), ignoring foreign contacts', () => {
    // Act
    const outcome = timedWorkOutcomeFromResponse(send('refresh'), {
      status: 200,
      contacts: ['<sip:other@198.51.100.4>;expires=60, <sip:alice@203.0.113.10:5060;CTID=11>;expires=1800'],
      expires: '900',
    });

    // Assess
    expect(outcome).toEqual({ kind: '2xx', grantedExpiresSec: 1800, contactAsReturned: 'sip:alice@203.0.113.10:5060;CTID=11' });
  });

  it('RPL-4: without an expires parameter the Expires header gives g; without both g is left to O', () => {
    // Act
    const fromHeader = timedWorkOutcomeFromResponse(send('refresh'), { status: 200, contacts: ['<sip:alice@203.0.113.10:5060;ctid=11>'], expires: '900' });
    const fromNothing = timedWorkOutcomeFromResponse(send('refresh'), { status: 200, contacts: ['<sip:alice@203.0.113.10:5060;ctid=11>'] });

    // Assess
    expect(fromHeader).toMatchObject({ grantedExpiresSec: 900 });
    expect(fromNothing).toEqual({ kind: '2xx', contactAsReturned: 'sip:alice@203.0.113.10:5060;ctid=11' });
  });

  it('RPL-5: a refresh 2xx without our contact means upstream holds nothing: g = 0', () => {
    // Act
    const outcome = timedWorkOutcomeFromResponse(send('refresh'), { status: 200, contacts: [] });

    // Assess
    expect(outcome).toEqual({ kind: '2xx', grantedExpiresSec: 0 });
  });

  it('DRG-6: a De-REGISTER 2xx ends the work whatever it lists; failures carry Retry-After and challenges', () => {
    // Act
    const deregistered = timedWorkOutcomeFromResponse(send('deregister'), { status: 200, contacts: ['<sip:x@y>;expires=5'] });
    const busy = timedWorkOutcomeFromResponse(send('deregister'), { status: 503, contacts: [], retryAfter: '120 (maintenance);duration=60' });
    const challenged = timedWorkOutcomeFromResponse(send('deregister'), { status: 401, contacts: [], challenge: 'Digest realm="r", nonce="n"' });

    // Assess
    expect(deregistered).toEqual({ kind: '2xx' });
    expect(busy).toEqual({ kind: 'failure', status: 503, retryAfterSec: 120 });
    expect(challenged).toEqual({ kind: 'failure', status: 401, challenge: 'Digest realm="r", nonce="n"' });
  });
});
