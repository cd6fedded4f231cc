import { createFlowToken } from '../../../functions/core/token';
import { createHopToken, deriveHopKey, formatGatewayId, parseGatewayId, verifyHopToken } from '../../../sip-gateway/src/proxy/internal-hop';

const flow = { transport: 'tcp' as const, localAddress: '10.0.1.7', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40000, connectionId: 't0-12', gatewayId: '10.0.1.7:5090' };

describe('Module: internal-hop', () => {
  it('DESIGN §5: a gateway id is <private address>:<internal port> and parses back', () => {
    // Act
    const ids = [formatGatewayId({ address: '10.0.1.7', port: 5090 }), formatGatewayId({ address: 'fd00::7', port: 5090 })];

    // Assess
    expect(ids).toEqual(['10.0.1.7:5090', '[fd00::7]:5090']);
    expect(ids.map(parseGatewayId)).toEqual([{ address: '10.0.1.7', port: 5090 }, { address: 'fd00::7', port: 5090 }]);
  });

  it.each(['local-host-42', 'gw-test', '10.0.1.7', '10.0.1.7:0', '10.0.1.7:65536'])('ids without a hop address (%s) give undefined: sent directly', (id) => {
    // Act / Assess
    expect(parseGatewayId(id)).toBeUndefined();
  });

  it('PTH-3: a hop token gives back the device flow and its owner', () => {
    // Prepare
    const key = deriveHopKey('secret');

    // Act
    const verified = verifyHopToken(key, createHopToken(key, flow));

    // Assess
    expect(verified).toEqual({ gatewayId: '10.0.1.7:5090', flow: { transport: 'tcp', localAddress: '10.0.1.7', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40000, connectionId: 't0-12' } });
  });

  it('LKP-10: Record-Route tokens under tokenSecret and tokens under another secret are no hop tokens', () => {
    // Prepare
    const key = deriveHopKey('secret');

    // Act
    const recordRoute = verifyHopToken(key, createFlowToken('secret', flow));
    const forged = verifyHopToken(key, createHopToken(deriveHopKey('other'), flow));

    // Assess
    expect([recordRoute, forged]).toEqual([undefined, undefined]);
  });
});
