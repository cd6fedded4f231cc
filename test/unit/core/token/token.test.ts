import {
  createFlowToken,
  createPathToken,
  FlowTokenFlow,
  verifyFlowToken,
  verifyPathToken,
} from '../../../../functions/core/token';

/** RFC 3261 §25.1 `unreserved` only: safe as a SIP URI user part without escaping. */
const USER_UNRESERVED = /^[A-Za-z0-9\-_.!~*'()]+$/;
const SECRET = 'test-token-secret-0123456789';

const udpFlow: FlowTokenFlow = {
  transport: 'udp',
  remoteAddress: '192.0.2.7',
  remotePort: 5062,
  localAddress: '10.0.0.5',
  localPort: 5060,
  gatewayId: '10.0.1.23:5070',
};

/** Every single-character substitution of the token, with a character from its own alphabet. */
function tamperings(token: string): string[] {
  const variants: string[] = [];
  for (let index = 0; index < token.length; index += 1) {
    const replacement = token[index] === 'A' ? 'B' : 'A';
    variants.push(token.slice(0, index) + replacement + token.slice(index + 1));
  }
  return variants;
}

describe('token', () => {
  describe('Path tokens', () => {
    it('PTH-7: a Path token is user-part-safe, short, and names its AoR', () => {
      // Prepare
      const aor = 'alice@example.com';

      // Act
      const token = createPathToken(SECRET, aor);

      // Assess
      expect(token).toMatch(USER_UNRESERVED);
      expect(token.length).toBeLessThanOrEqual(48);
      expect(verifyPathToken(SECRET, token)).toBe(aor);
    });

    it('PTH-7: the AoR keeps its case and non-ASCII characters', () => {
      // Prepare
      const aor = 'Ünïcode.User+1@example.com';

      // Act
      const token = createPathToken(SECRET, aor);

      // Assess
      expect(token).toMatch(USER_UNRESERVED);
      expect(verifyPathToken(SECRET, token)).toBe(aor);
    });

    it('LKP-10: any single-character change of a Path token fails verification', () => {
      // Prepare
      const token = createPathToken(SECRET, 'alice@example.com');

      // Act
      const results = tamperings(token).map((variant) => verifyPathToken(SECRET, variant));

      // Assess
      expect(results.every((result) => result === undefined)).toBe(true);
    });

    it('LKP-10: a token made under another secret, truncated or extended is rejected', () => {
      // Prepare
      const token = createPathToken(SECRET, 'alice@example.com');

      // Act
      const otherKey = verifyPathToken('another-secret', token);
      const truncated = verifyPathToken(SECRET, token.slice(0, -1));
      const extended = verifyPathToken(SECRET, `${token}A`);
      const empty = verifyPathToken(SECRET, '');
      const notBase64 = verifyPathToken(SECRET, `${token.slice(0, -1)}%`);

      // Assess
      expect([otherKey, truncated, extended, empty, notBase64]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    });

    it('PTH-7: a Bytes key and the same UTF-8 string key give the same token', () => {
      // Prepare
      const bytesKey = Buffer.from(SECRET, 'utf8');

      // Act
      const token = createPathToken(bytesKey, 'bob@example.org');

      // Assess
      expect(verifyPathToken(SECRET, token)).toBe('bob@example.org');
    });
  });

  describe('Record-Route (flow) tokens', () => {
    it('LKP-9: a flow token round-trips transport, addresses, ports and gateway id', () => {
      // Prepare
      const flow = udpFlow;

      // Act
      const token = createFlowToken(SECRET, flow);

      // Assess
      expect(token).toMatch(USER_UNRESERVED);
      expect(token.length).toBeLessThanOrEqual(64);
      expect(verifyFlowToken(SECRET, token)).toEqual(flow);
    });

    it('LKP-9: IPv6, host names and a TCP connection id round-trip exactly', () => {
      // Prepare
      const flows: FlowTokenFlow[] = [
        { ...udpFlow, transport: 'tcp', connectionId: 'c-42' },
        { ...udpFlow, transport: 'tls', remoteAddress: '2001:db8::7', localAddress: '::', connectionId: '' },
        { ...udpFlow, remoteAddress: '2001:DB8:0:0::7', localAddress: 'gw.internal' },
        { ...udpFlow, remoteAddress: '::ffff:192.0.2.7' },
      ];

      // Act
      const decoded = flows.map((flow) => verifyFlowToken(SECRET, createFlowToken(SECRET, flow)));

      // Assess
      expect(decoded).toEqual(flows);
    });

    it('LKP-10: a tampered flow token fails verification', () => {
      // Prepare
      const token = createFlowToken(SECRET, { ...udpFlow, transport: 'tcp', connectionId: '7' });

      // Act
      const results = tamperings(token).map((variant) => verifyFlowToken(SECRET, variant));

      // Assess
      expect(results.every((result) => result === undefined)).toBe(true);
    });

    it('PTH-7: a Path token is not accepted as a flow token and vice versa', () => {
      // Prepare
      const pathToken = createPathToken(SECRET, 'alice@example.com');
      const flowToken = createFlowToken(SECRET, udpFlow);

      // Act
      const pathAsFlow = verifyFlowToken(SECRET, pathToken);
      const flowAsPath = verifyPathToken(SECRET, flowToken);

      // Assess
      expect(pathAsFlow).toBeUndefined();
      expect(flowAsPath).toBeUndefined();
    });

    it('LKP-9: an out-of-range port or unknown transport is a programmer error', () => {
      // Prepare
      const badPort = { ...udpFlow, remotePort: 70000 };
      const badTransport = { ...udpFlow, transport: 'carrier-pigeon' } as unknown as FlowTokenFlow;

      // Act
      const createWithBadPort = () => createFlowToken(SECRET, badPort);
      const createWithBadTransport = () => createFlowToken(SECRET, badTransport);

      // Assess
      expect(createWithBadPort).toThrow(RangeError);
      expect(createWithBadTransport).toThrow(RangeError);
    });
  });
});
