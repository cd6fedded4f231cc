/**
 * A UDP forwarder between the mid-registrar and Kamailio (the mid-registrar's `upstreamOutboundProxy`)
 * that records every request and response passing through, and can drop requests, to lose a relay on
 * the way upstream.
 */
import * as dgram from 'node:dgram';
import { parseMessage, type SipMessage } from '../../../sip-gateway/src/sip/message';

/** A message that passed (or was dropped), with when. */
export interface ForwardedMessage {
  atMs: number;
  message: SipMessage;
  dropped: boolean;
  /** Where it came from (`host:port`): for requests, the mid-registrar socket that sent it (FWD-9). */
  source: string;
}

/** A running forwarder. */
export interface UdpForwarder {
  /** `host:port` to use as `upstreamOutboundProxy`. */
  address: string;
  /** Requests from the mid-registrar, in arrival order. */
  requests: ForwardedMessage[];
  /** Responses from Kamailio, in arrival order. */
  responses: ForwardedMessage[];
  /** Requests for which this returns true are not forwarded (every transmission of them). */
  drop: (request: SipMessage) => boolean;
  close(): Promise<void>;
}

/** Starts a forwarder on 127.0.0.1 to `target` (`host:port`). */
export async function startUdpForwarder(target: { host: string; port: number }): Promise<UdpForwarder> {
  const front = dgram.createSocket('udp4');
  /** One socket toward Kamailio per mid-registrar source, so answers find their way back. */
  const backs = new Map<string, dgram.Socket>();
  const forwarder: UdpForwarder = {
    address: '',
    requests: [],
    responses: [],
    drop: () => false,
    close: async () => {
      await Promise.all([front, ...backs.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
  const backFor = async (source: dgram.RemoteInfo): Promise<dgram.Socket> => {
    const key = `${source.address}:${source.port}`;
    const existing = backs.get(key);
    if (existing !== undefined) return existing;
    const back = dgram.createSocket('udp4');
    backs.set(key, back);
    back.on('message', (datagram) => {
      forwarder.responses.push({ atMs: Date.now(), message: parseMessage(datagram), dropped: false, source: `${target.host}:${target.port}` });
      front.send(datagram, source.port, source.address);
    });
    await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve));
    return back;
  };
  front.on('message', (datagram, source) => {
    const message = parseMessage(datagram);
    const dropped = forwarder.drop(message);
    forwarder.requests.push({ atMs: Date.now(), message, dropped, source: `${source.address}:${source.port}` });
    if (dropped) return;
    void backFor(source).then((back) => back.send(datagram, target.port, target.host));
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  forwarder.address = `127.0.0.1:${front.address().port}`;
  return forwarder;
}
