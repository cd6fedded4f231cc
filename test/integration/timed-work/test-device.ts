/**
 * A SIP device for the timed-work integration tests: a UDP socket on 127.0.0.1 that sends REGISTERs
 * to the mid-registrar (retransmitting per RFC 3261 §17.1.2.2) and waits for the final response.
 */
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { createRequest, parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';

/** One REGISTER of a {@link TestDevice}. */
export interface DeviceRegister {
  expiresSec: number;
  /** Default: the next CSeq of the device's Call-ID. */
  cseq?: number;
}

/** A registering device of `user@example.com`. */
export class TestDevice {
  private cseq = 0;
  readonly callId = `${randomBytes(6).toString('hex')}@device`;
  private readonly waiting = new Map<number, (response: SipMessage) => void>();

  private constructor(
    private readonly socket: dgram.Socket,
    readonly user: string,
    private readonly midPort: number,
  ) {
    socket.on('message', (datagram) => {
      const response = parseMessage(datagram);
      if (response.isRequest || response.status < 200) return;
      this.waiting.get(response.cseq().seq)?.(response);
    });
  }

  /** Opens a device socket on an ephemeral loopback port. */
  static async open(user: string, midPort: number): Promise<TestDevice> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new TestDevice(socket, user, midPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** The device's own contact URI. */
  get contactUri(): string {
    return `sip:${this.user}@127.0.0.1:${this.port}`;
  }

  /** Sends a REGISTER and resolves with its final response (rejects after 8 s without one). */
  async register(options: DeviceRegister): Promise<SipMessage> {
    this.cseq = options.cseq ?? this.cseq + 1;
    const cseq = this.cseq;
    const request = createRequest({
      method: 'REGISTER',
      requestUri: 'sip:example.com',
      headers: [
        ['Via', `SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`],
        ['From', `<sip:${this.user}@example.com>;tag=${randomBytes(4).toString('hex')}`],
        ['To', `<sip:${this.user}@example.com>`],
        ['Call-ID', this.callId],
        ['CSeq', `${cseq} REGISTER`],
        ['Contact', `<${this.contactUri}>`],
        ['Expires', String(options.expiresSec)],
        ['Max-Forwards', '70'],
      ],
    });
    const bytes = request.serialize();
    return new Promise<SipMessage>((resolve, reject) => {
      let intervalMs = 500;
      let retransmit: NodeJS.Timeout;
      const send = (): void => {
        this.socket.send(bytes, this.midPort, '127.0.0.1');
        retransmit = setTimeout(send, intervalMs);
        intervalMs = Math.min(intervalMs * 2, 4000);
      };
      const giveUp = setTimeout(() => {
        clearTimeout(retransmit);
        this.waiting.delete(cseq);
        reject(new Error(`no final response to REGISTER CSeq ${cseq} of ${this.user}`));
      }, 8_000);
      this.waiting.set(cseq, (response) => {
        clearTimeout(retransmit);
        clearTimeout(giveUp);
        this.waiting.delete(cseq);
        resolve(response);
      });
      send();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
