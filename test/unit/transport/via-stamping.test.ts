import { formatVia, parseVia, type Via } from '../../../sip-gateway/src/sip/via';
import { chooseResponseRoute, stampedResponseRoute, stampParsedTopVia } from '../../../sip-gateway/src/transport/via-stamping';
import type { Flow } from '../../../sip-gateway/src/transport/flow';

const udpFlow: Flow = { transport: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40000 };
const tcpFlow: Flow = { ...udpFlow, transport: 'tcp', connectionId: 'c1' };

/** The stamped value of `via` received from `address:port`. */
function stampTopVia(via: string, address: string, port: number): string {
  return stampParsedTopVia(parseVia(via), { ...udpFlow, remoteAddress: address, remotePort: port });
}

/** PTH-1 spelled out on the parsed Via: the first received set (else appended), the first rport set, then formatted. */
function stampedByDefinition(via: Via, address: string, port: number): string {
  const params = via.params.map((param) => ({ ...param }));
  const received = params.find((param) => param.name.toLowerCase() === 'received');
  if (received === undefined) params.push({ name: 'received', value: address });
  else received.value = address;
  const rport = params.find((param) => param.name.toLowerCase() === 'rport');
  if (rport !== undefined) rport.value = String(port);
  return formatVia({ ...via, params });
}

describe('Function: stampParsedTopVia (the stamped value)', () => {
  it.each([
    ['rport without value gets the source port and received', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7'],
    ['an existing rport value is overwritten with the real one', 'SIP/2.0/UDP 10.0.0.1:5060;rport=1234;branch=z9hG4bK1', 'SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bK1;received=192.0.2.7'],
    ['without rport only received is added', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=192.0.2.7'],
    ['a forged received is replaced', 'SIP/2.0/TCP host.example.com;received=1.2.3.4;branch=z9hG4bK1', 'SIP/2.0/TCP host.example.com;received=192.0.2.7;branch=z9hG4bK1'],
    ['received is added even when sent-by equals the source', 'SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bK1;rport', 'SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bK1;rport=40000;received=192.0.2.7'],
  ])('PTH-1: %s', (_name, input, expected) => {
    // Prepare
    const [address, port] = ['192.0.2.7', 40000];

    // Act
    const stamped = stampTopVia(input, address, port);

    // Assess
    expect(stamped).toBe(expected);
  });

  it('throws SipParseError for an unparsable Via', () => {
    // Prepare
    const bad = 'SIP/2.0 nonsense';

    // Act
    const act = (): string => stampTopVia(bad, '192.0.2.7', 1);

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: 'SipParseError' }));
  });
});

describe('Function: chooseResponseRoute', () => {
  it('PTH-1: UDP with rport goes to received:rport (RFC 3581 §4)', () => {
    // Prepare
    const via = 'SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport=40000;received=192.0.2.7';

    // Act
    const route = chooseResponseRoute(via, udpFlow);

    // Assess
    expect(route).toEqual({ destination: { transport: 'udp', address: '192.0.2.7', port: 40000 } });
  });

  it('UDP without rport goes to received and the sent-by port (RFC 3261 §18.2.2)', () => {
    // Prepare
    const via = 'SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;received=192.0.2.7';

    // Act
    const route = chooseResponseRoute(via, udpFlow);

    // Assess
    expect(route.destination).toEqual({ transport: 'udp', address: '192.0.2.7', port: 5062 });
  });

  it('UDP without received or port goes to sent-by host on 5060', () => {
    // Prepare
    const via = 'SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK1';

    // Act
    const route = chooseResponseRoute(via, udpFlow);

    // Assess
    expect(route.destination).toEqual({ transport: 'udp', address: '198.51.100.1', port: 5060 });
  });

  it('UDP with maddr goes to maddr on the sent-by port', () => {
    // Prepare
    const via = 'SIP/2.0/UDP 10.0.0.1:5070;maddr=239.1.1.1;branch=z9hG4bK1;received=192.0.2.7';

    // Act
    const route = chooseResponseRoute(via, udpFlow);

    // Assess
    expect(route.destination).toEqual({ transport: 'udp', address: '239.1.1.1', port: 5070 });
  });

  it('TCP uses the request connection first, else received and the sent-by port (never the ephemeral rport)', () => {
    // Prepare
    const via = 'SIP/2.0/TCP 10.0.0.1:5080;branch=z9hG4bK1;rport=40000;received=192.0.2.7';

    // Act
    const route = chooseResponseRoute(via, tcpFlow);

    // Assess
    expect(route).toEqual({ connectionId: 'c1', destination: { transport: 'tcp', address: '192.0.2.7', port: 5080 } });
  });

  it('TLS without sent-by port falls back to 5061', () => {
    // Prepare
    const via = 'SIP/2.0/TLS [2001:db8::1];branch=z9hG4bK1';

    // Act
    const route = chooseResponseRoute(via, { ...tcpFlow, transport: 'tls' });

    // Assess
    expect(route.destination).toEqual({ transport: 'tls', address: '2001:db8::1', port: 5061 });
  });
});

describe('Function: stampParsedTopVia (against its definition)', () => {
  it.each([
    ['upper-case parameter names', 'SIP/2.0/UDP 10.0.0.1:5060;BRANCH=z9hG4bK1;RPort;Received=1.2.3.4'],
    ['repeated received and rport', 'SIP/2.0/UDP 10.0.0.1;received=1.2.3.4;received=5.6.7.8;rport=9;rport=10'],
    ['a quoted value and a valueless parameter', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;x="a;b";lr;rport'],
    ['LWS and a lower-case transport', 'SIP / 2.0 / udp  10.0.0.1 : 5060 ; branch = z9hG4bK1 ; rport'],
    ['an IPv6 sent-by without port', 'SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK1'],
    ['no parameters at all', 'SIP/2.0/UDP host.example.com'],
  ])('PTH-1: %s', (_name, text) => {
    // Prepare
    const via = parseVia(text);

    // Act
    const stamped = stampParsedTopVia(via, udpFlow);

    // Assess
    expect(stamped).toBe(stampedByDefinition(via, udpFlow.remoteAddress, udpFlow.remotePort));
    expect(via).toEqual(parseVia(text));
  });
});

describe('Function: stampedResponseRoute', () => {
  const ipv6Flow: Flow = { ...udpFlow, remoteAddress: '2001:db8::9' };
  it.each([
    ['rport without value', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport', udpFlow],
    ['no rport', 'SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1', udpFlow],
    ['no rport, sent-by port equal to the source port', 'SIP/2.0/UDP 10.0.0.1:40000;branch=z9hG4bK1', udpFlow],
    ['no rport, no port', 'SIP/2.0/UDP host.example.com;branch=z9hG4bK1', udpFlow],
    ['maddr', 'SIP/2.0/UDP 10.0.0.1:5070;maddr=239.1.1.1;branch=z9hG4bK1;rport', udpFlow],
    ['an empty maddr', 'SIP/2.0/UDP 10.0.0.1:5070;maddr="";branch=z9hG4bK1;rport', udpFlow],
    ['forged and repeated received', 'SIP/2.0/UDP 10.0.0.1;received=1.2.3.4;received=5.6.7.8;rport=9;rport=10', udpFlow],
    ['an IPv6 source', 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport', ipv6Flow],
    ['TCP with a connection', 'SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bK1;rport', tcpFlow],
    ['TLS without port', 'SIP/2.0/TLS client.example.com;branch=z9hG4bK1', { ...tcpFlow, transport: 'tls' } as Flow],
  ])('PTH-1: %s: chooseResponseRoute of the stamped value, undefined when that is the UDP source', (_name, text, flow) => {
    // Prepare
    const via = parseVia(text);
    const expected = chooseResponseRoute(stampParsedTopVia(via, flow), flow);
    const toSource =
      flow.transport === 'udp' && expected.destination.address === flow.remoteAddress && expected.destination.port === flow.remotePort;

    // Act
    const route = stampedResponseRoute(via, flow);

    // Assess
    expect(route).toEqual(toSource ? undefined : expected);
  });
});
