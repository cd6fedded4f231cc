import { BindingConnectionPins } from '../../../sip-gateway/src/proxy/binding-connection-pins';
import { createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';
import type { Flow } from '../../../sip-gateway/src/transport/flow';
import { FakeClock } from '../../support/fake-clock';

function registerRequest(contact: string, expires: number): SipMessage {
  const text = [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.7:40000;branch=z9hG4bK-1',
    'From: <sip:bob@example.com>;tag=1',
    'To: <sip:bob@example.com>',
    'Call-ID: c1',
    'CSeq: 1 REGISTER',
    `Contact: ${contact}`,
    `Expires: ${expires}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text));
}

function ok(request: SipMessage, contacts: string[]): SipMessage {
  return createResponse(request, 200, 'OK', { toTag: 't', headers: contacts.map((c): [string, string] => ['Contact', c]) });
}

const tcp = (connectionId: string): Flow => ({ transport: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40000, connectionId });

describe('Class: BindingConnectionPins', () => {
  let clock: FakeClock;
  let pinned: Map<string, number>;
  let pins: BindingConnectionPins;

  beforeEach(() => {
    clock = new FakeClock();
    pinned = new Map();
    pins = new BindingConnectionPins({
      clock,
      pin: (id) => {
        pinned.set(id, (pinned.get(id) ?? 0) + 1);
        return true;
      },
      unpin: (id) => pinned.set(id, (pinned.get(id) ?? 0) - 1),
    });
  });

  it('PTH-4: a binding committed on a TCP connection pins it once, however often it is refreshed', () => {
    // Prepare
    const request = registerRequest('<sip:bob@192.0.2.7:40000;transport=tcp>', 60);

    // Act
    pins.onRegisterOk(request, ok(request, ['<sip:bob@192.0.2.7:40000;transport=tcp>;expires=60']), tcp('t1'));
    pins.onRegisterOk(request, ok(request, ['<sip:bob@192.0.2.7:40000;transport=tcp>;expires=60']), tcp('t1'));

    // Assess
    expect(pinned.get('t1')).toBe(1);
  });

  it('PTH-4: the pin ends with the binding: De-REGISTER, expiry, or a move to another connection', () => {
    // Prepare
    const contact = '<sip:bob@192.0.2.7:40000;transport=tcp>';
    const request = registerRequest(contact, 60);
    pins.onRegisterOk(request, ok(request, [`${contact};expires=60`]), tcp('t1'));

    // Act: moves to t2, expires there, is registered on t3 and removed
    pins.onRegisterOk(request, ok(request, [`${contact};expires=60`]), tcp('t2'));
    const afterMove = [pinned.get('t1'), pinned.get('t2')];
    clock.advance(60_000);
    const afterExpiry = pinned.get('t2');
    pins.onRegisterOk(request, ok(request, [`${contact};expires=60`]), tcp('t3'));
    const removal = registerRequest(contact, 0);
    pins.onRegisterOk(removal, ok(removal, []), tcp('t3'));

    // Assess
    expect(afterMove).toEqual([0, 1]);
    expect(afterExpiry).toBe(0);
    expect(pinned.get('t3')).toBe(0);
    expect(pins.pinnedCount).toBe(0);
  });

  it('PTH-4: UDP bindings pin nothing, and a binding moving to UDP releases its connection', () => {
    // Prepare
    const contact = '<sip:bob@192.0.2.7:40000>';
    const request = registerRequest(contact, 60);
    pins.onRegisterOk(request, ok(request, [`${contact};expires=60`]), tcp('t1'));

    // Act
    pins.onRegisterOk(request, ok(request, [`${contact};expires=60`]), { transport: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40000 });

    // Assess
    expect(pinned.get('t1')).toBe(0);
    expect(pins.pinnedCount).toBe(0);
  });
});
