import { flowKey, parseListenSpec, ListenSpecError } from '../../../sip-gateway/src/transport/flow';

describe('Function: parseListenSpec', () => {
  it.each([
    ['udp:0.0.0.0:5060', { transport: 'udp', host: '0.0.0.0', port: 5060 }],
    ['tcp:127.0.0.1:5070', { transport: 'tcp', host: '127.0.0.1', port: 5070 }],
    ['TLS:[::1]:5061', { transport: 'tls', host: '::1', port: 5061 }],
  ])('CFG-4: parses %s', (spec, expected) => {
    // Prepare
    const input = spec;

    // Act
    const parsed = parseListenSpec(input);

    // Assess
    expect(parsed).toEqual(expected);
  });

  it.each(['sctp:1.2.3.4:5060', 'udp:1.2.3.4', 'udp:1.2.3.4:70000', 'tcp::5060', ''])('CFG-4: rejects %j naming it', (spec) => {
    // Prepare
    const input = spec;

    // Act
    const act = (): unknown => parseListenSpec(input);

    // Assess
    expect(act).toThrow(ListenSpecError);
    expect(act).toThrow(`"${spec}"`);
  });
});

describe('Function: flowKey', () => {
  it('distinguishes connections between the same addresses', () => {
    // Prepare
    const flow = { transport: 'tcp' as const, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.1', remotePort: 4000 };

    // Act
    const keys = [flowKey({ ...flow, connectionId: 'a' }), flowKey({ ...flow, connectionId: 'b' }), flowKey(flow)];

    // Assess
    expect(new Set(keys).size).toBe(3);
    expect(keys[0]).toBe('tcp:127.0.0.1:5060>192.0.2.1:4000#a');
  });
});
