import { createSipTransactionCodec } from '../../../sip-gateway/src/proxy/sip-transaction-codec';
import { createResponse, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip';
import { TransactionLayer } from '../../../sip-gateway/src/transaction/transaction-layer';
import { FakeClock } from '../../support/fake-clock';

/** The layer over the real codec (SipMessage and the proxy's adapter), to prove the two fit on the wire. */
function harness(): { clock: FakeClock; sent: SipMessage[]; layer: TransactionLayer<SipMessage, string> } {
  const clock = new FakeClock(0);
  const sent: SipMessage[] = [];
  const layer = new TransactionLayer<SipMessage, string>({
    clock,
    codec: createSipTransactionCodec(() => 'layer-tag'),
    send: (message) => void sent.push(message),
  });
  return { clock, sent, layer };
}

const wire = (lines: string[]): SipMessage => parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`));

const invite = (via: string): SipMessage =>
  wire([
    'INVITE sip:bob@example.com SIP/2.0',
    via,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    'Call-ID: call-42@192.0.2.10',
    'CSeq: 314 INVITE',
    'Content-Length: 0',
  ]);

describe('TransactionLayer with the SIP codec', () => {
  it('matches a compact-form retransmission and the ACK of a rejected INVITE as parsed from the wire', () => {
    // Prepare
    const h = harness();
    const first = invite('Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKwire1');
    const result = h.layer.receiveRequest(first, 'flow', false);
    if (result.kind !== 'new') throw new Error('expected a new transaction');
    h.layer.respond(result.transaction, createResponse(first, 486, 'Busy Here', { toTag: 'uas' }));
    const ack = wire([
      'ACK sip:bob@example.com SIP/2.0',
      'v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKwire1',
      'f: <sip:alice@example.com>;tag=a1',
      't: <sip:bob@example.com>;tag=uas',
      'i: call-42@192.0.2.10',
      'CSeq: 314 ACK',
      'l: 0',
    ]);
    // Act
    const again = h.layer.receiveRequest(invite('v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKwire1'), 'flow', false);
    const acked = h.layer.receiveRequest(ack, 'flow', false);
    // Assess
    expect(again.kind).toBe('absorbed');
    expect(acked.kind).toBe('absorbed');
    expect(result.transaction.state).toBe('Confirmed');
    expect(h.sent.map((m) => m.status)).toEqual([100, 486, 486]);
  });

  it('builds the §17.1.1.3 ACK and the §9.1 CANCEL of a client INVITE from the real messages', () => {
    // Prepare
    const h = harness();
    const request = invite('Via: SIP/2.0/UDP gw.example:5060;branch=z9hG4bKclient1');
    const tx = h.layer.sendRequest(request, 'device', false, { onResponse: () => undefined });
    h.layer.receiveResponse(createResponse(request, 180, 'Ringing', { toTag: 'dev' }));
    // Act
    h.layer.cancel(tx);
    h.layer.receiveResponse(createResponse(request, 487, 'Request Terminated', { toTag: 'dev' }));
    // Assess
    const [, cancel, ack] = h.sent;
    expect(cancel!.method).toBe('CANCEL');
    expect(cancel!.cseq()).toEqual({ seq: 314, method: 'CANCEL' });
    expect(cancel!.topVia()?.branch).toBe('z9hG4bKclient1');
    expect(ack!.method).toBe('ACK');
    expect(ack!.requestUri).toBe('sip:bob@example.com');
    expect(ack!.cseq()).toEqual({ seq: 314, method: 'ACK' });
    expect(ack!.toTag()).toBe('dev');
    expect(ack!.topVia()?.branch).toBe('z9hG4bKclient1');
  });
});
