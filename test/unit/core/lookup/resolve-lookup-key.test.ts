import { CONTRACT_VERSION, type LookupRequest } from '../../../../functions/core/contract';
import { aorFromEscapedUser, resolveLookupKey } from '../../../../functions/core/lookup/resolve-lookup-key';
import { createFlowToken, createPathToken } from '../../../../functions/core/token';
import { makeConfig, makeFlow, SECRET } from '../timed-work/record-fixtures';

const UPSTREAM_SOURCE = makeFlow({ remoteAddress: '198.51.100.9', remotePort: 5060 });
const DEVICE_SOURCE = makeFlow({ remoteAddress: '192.0.2.7', remotePort: 5062 });

function request(overrides: Partial<LookupRequest> = {}): LookupRequest {
  return {
    version: CONTRACT_VERSION,
    method: 'INVITE',
    requestUri: 'sip:alice@203.0.113.10:5060;ctid=4250694360795977181',
    hasToTag: false,
    flow: UPSTREAM_SOURCE,
    receivedAtMs: 1000,
    ...overrides,
  };
}

describe('resolveLookupKey', () => {
  describe('LKP-1 classification', () => {
    it.each(['REGISTER', 'CANCEL', 'ACK'])('LKP-1: %s is not looked up', (method) => {
      // Prepare
      const config = makeConfig();

      // Act
      const key = resolveLookupKey(config, request({ method }));

      // Assess
      expect(key).toEqual({ kind: 'not-lookup' });
    });

    it('LKP-1: a request with a To tag (in-dialog) is not looked up', () => {
      // Act
      const key = resolveLookupKey(makeConfig(), request({ hasToTag: true }));

      // Assess
      expect(key).toEqual({ kind: 'not-lookup' });
    });

    it('LKP-1: OPTIONS to the mid-registrar without user part gets 200, from anyone', () => {
      // Prepare
      const options = { method: 'OPTIONS', requestUri: 'sip:203.0.113.10' };

      // Act
      const fromUpstream = resolveLookupKey(makeConfig(), request(options));
      const fromDevice = resolveLookupKey(makeConfig({ mode: 2 }), request({ ...options, flow: DEVICE_SOURCE }));

      // Assess
      expect(fromUpstream).toEqual({ kind: 'options-ok' });
      expect(fromDevice).toEqual({ kind: 'options-ok' });
    });

    it('LKP-1: a device INVITE elsewhere is relayed upstream (with Record-Route, LKP-9)', () => {
      // Prepare
      const invite = request({ requestUri: 'sip:bob@example.com', flow: DEVICE_SOURCE });

      // Act
      const key = resolveLookupKey(makeConfig(), invite);

      // Assess
      expect(key).toEqual({ kind: 'relay-upstream' });
    });

    it('LKP-1: a trusted source gets 404 for a Request-URI that is not one of our contacts', () => {
      // Prepare
      const invite = request({ requestUri: 'sip:bob@example.com' });

      // Act
      const key = resolveLookupKey(makeConfig(), invite);

      // Assess
      expect(key).toEqual({ kind: 'reject', error: 'notFound' });
    });

    it('LKP-1: trust follows trustedUpstreamSources entries: IP:port and IPv4-mapped sources', () => {
      // Prepare
      const config = makeConfig({ trustedUpstreamSources: ['198.51.100.9:5060'] });
      const mapped = makeFlow({ remoteAddress: '::ffff:198.51.100.9', remotePort: 5060 });
      const otherPort = makeFlow({ remoteAddress: '198.51.100.9', remotePort: 5080 });

      // Act
      const fromMapped = resolveLookupKey(config, request({ flow: mapped }));
      const fromOtherPort = resolveLookupKey(config, request({ flow: otherPort }));

      // Assess
      expect(fromMapped.kind).toBe('contact-id');
      expect(fromOtherPort).toEqual({ kind: 'reject', error: 'forbidden' });
    });
  });

  describe('LKP-2 resolution', () => {
    it('LKP-2: contact insertion reads the ctid parameter and ignores the rest', () => {
      // Act
      const key = resolveLookupKey(makeConfig(), request({ requestUri: 'sip:whoever@203.0.113.10;ctid=42;transport=udp' }));

      // Assess
      expect(key).toEqual({ kind: 'contact-id', contactId: '42', removeTopRoute: false });
    });

    it('LKP-2: contactIdIn = user reads the id from the user part; a custom param name is honoured', () => {
      // Prepare
      const byUser = makeConfig({ contactIdIn: 'user' });
      const byParam = makeConfig({ contactIdParam: 'mrid' });

      // Act
      const userKey = resolveLookupKey(byUser, request({ requestUri: 'sip:4250694360795977181@203.0.113.10:5060' }));
      const paramKey = resolveLookupKey(byParam, request({ requestUri: 'sip:203.0.113.10:5060;mrid=7' }));

      // Assess
      expect(userKey).toEqual({ kind: 'contact-id', contactId: '4250694360795977181', removeTopRoute: false });
      expect(paramKey).toEqual({ kind: 'contact-id', contactId: '7', removeTopRoute: false });
    });

    it('LKP-2: a contact id that is no FWD-4 id (2^63, leading zero, letters) names nothing: 404', () => {
      // Prepare
      const uris = [
        'sip:alice@203.0.113.10:5060;ctid=9223372036854775808',
        'sip:alice@203.0.113.10:5060;ctid=042',
        'sip:alice@203.0.113.10:5060;ctid=abc',
        'sip:alice@203.0.113.10:5070;ctid=42',
      ];

      // Act
      const keys = uris.map((requestUri) => resolveLookupKey(makeConfig(), request({ requestUri })));

      // Assess
      expect(keys).toEqual(uris.map(() => ({ kind: 'reject', error: 'notFound' })));
    });

    it('LKP-2: mode 2 un-escapes %40 in the user part into the AoR and keeps the incarnation id', () => {
      // Prepare
      const config = makeConfig({ mode: 2 });

      // Act
      const key = resolveLookupKey(config, request({ requestUri: 'sip:alice%40Example.COM@203.0.113.10:5060;ctid=88' }));

      // Assess
      expect(key).toEqual({ kind: 'aor', aor: 'alice@example.com', incarnationId: '88', removeTopRoute: false });
    });

    it('LKP-2: mode 2 with atEscape ___ maps alice___example.com back to alice@example.com', () => {
      // Prepare
      const config = makeConfig({ mode: 2, atEscape: '___' });

      // Act
      const key = resolveLookupKey(config, request({ requestUri: 'sip:alice___example.com@203.0.113.10' }));

      // Assess
      expect(key).toEqual({ kind: 'aor', aor: 'alice@example.com', removeTopRoute: false });
    });

    it('LKP-2: the user part is un-escaped %XX first, then atEscape, case kept in the user', () => {
      // Act
      const aors = [
        aorFromEscapedUser('Al%20ice___ex.com', '___'),
        aorFromEscapedUser('a___b___ex.com', '___'),
        aorFromEscapedUser('alice', '%40'),
        aorFromEscapedUser('alice%40', '%40'),
      ];

      // Assess
      expect(aors).toEqual(['Al ice@ex.com', 'a___b@ex.com', undefined, undefined]);
    });

    it('LKP-2: path insertion takes the AoR from a valid top Route token and the binding from the Request-URI', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const token = createPathToken(SECRET, 'alice@example.com');
      const invite = request({ requestUri: 'sip:alice@192.0.2.7:5062', topRoute: `<sip:${token}@203.0.113.10:5060;lr>` });

      // Act
      const key = resolveLookupKey(config, invite);

      // Assess
      expect(key).toEqual({ kind: 'path-token', aor: 'alice@example.com', requestUri: 'sip:alice@192.0.2.7:5062', removeTopRoute: true });
    });

    it('LKP-2: our own top Route without user is removed in contact insertion', () => {
      // Act
      const key = resolveLookupKey(makeConfig(), request({ requestUri: 'sip:203.0.113.10;ctid=5', topRoute: '<sip:203.0.113.10;lr>' }));

      // Assess
      expect(key).toEqual({ kind: 'contact-id', contactId: '5', removeTopRoute: true });
    });
  });

  describe('LKP-10 forbidden', () => {
    it('LKP-10: a valid ctid from an untrusted address gets 403', () => {
      // Act
      const key = resolveLookupKey(makeConfig(), request({ flow: DEVICE_SOURCE }));

      // Assess
      expect(key).toEqual({ kind: 'reject', error: 'forbidden' });
    });

    it('LKP-10: a mode 2 contact from an untrusted address gets 403', () => {
      // Act
      const key = resolveLookupKey(makeConfig({ mode: 2 }), request({ requestUri: 'sip:alice%40example.com@203.0.113.10', flow: DEVICE_SOURCE }));

      // Assess
      expect(key).toEqual({ kind: 'reject', error: 'forbidden' });
    });

    it('LKP-10: a tampered Path token gets 403, even from upstream', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const token = createPathToken(SECRET, 'alice@example.com');
      const tampered = (token[3] === 'x' ? 'y' : 'x') ;
      const forged = token.slice(0, 3) + tampered + token.slice(4);
      const invite = request({ requestUri: 'sip:alice@192.0.2.7:5062', topRoute: `<sip:${forged}@203.0.113.10:5060;lr>` });

      // Act
      const key = resolveLookupKey(config, invite);

      // Assess
      expect(key).toEqual({ kind: 'reject', error: 'forbidden' });
    });

    it('LKP-10: a valid Path token from an untrusted source gets 403', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const token = createPathToken(SECRET, 'alice@example.com');
      const invite = request({ requestUri: 'sip:alice@192.0.2.7:5062', topRoute: `<sip:${token}@203.0.113.10;lr>`, flow: DEVICE_SOURCE });

      // Act
      const key = resolveLookupKey(config, invite);

      // Assess
      expect(key).toEqual({ kind: 'reject', error: 'forbidden' });
    });

    it('LKP-9: an initial request loose-routed through our Record-Route token is not a lookup', () => {
      // Prepare
      const token = createFlowToken(SECRET, DEVICE_SOURCE);
      const invite = request({ requestUri: 'sip:bob@example.com', topRoute: `<sip:${token}@203.0.113.10:5060;lr>` });

      // Act
      const key = resolveLookupKey(makeConfig(), invite);

      // Assess
      expect(key).toEqual({ kind: 'not-lookup' });
    });
  });
});
