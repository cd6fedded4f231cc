import { createSocket, type Socket } from 'node:dgram';
import { parseConfig } from '../../functions/core/config';
import type { DecisionInvoker } from '../../sip-gateway/src/decision/decision-invoker';
import { Gateway } from '../../sip-gateway/src/gateway';
import { createLogger } from '../../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../../sip-gateway/src/observability/metrics-registry';
import { FakeClock } from '../support/fake-clock';
import { allocatePort } from '../support/ports';

/** Decisions that never come: the transaction user never answers. */
const silentInvoker: DecisionInvoker = {
  lookup: () => new Promise(() => undefined),
  decideRegister: () => new Promise(() => undefined),
  decideRegisterReply: () => new Promise(() => undefined),
  drain: () => Promise.resolve(),
};

describe('Class: Gateway', () => {
  let gateway: Gateway;
  let client: Socket;
  let clock: FakeClock;
  let port: number;

  beforeEach(async () => {
    port = await allocatePort();
    clock = new FakeClock(1_000_000);
    const config = parseConfig({ mode: 1, upstreamUri: 'sip:127.0.0.1:5999', listen: [`udp:127.0.0.1:${port}`], tokenSecret: 'gateway-unit' });
    gateway = await Gateway.start({
      config,
      invoker: silentInvoker,
      gatewayId: 'gw-unit',
      logger: createLogger({ level: 'silent' }),
      metrics: new MetricsRegistry({ namespace: 'test', write: () => undefined }),
      clock,
    });
    client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    client.close();
    await gateway.close();
  });

  it('ERR-1: the 408 the transaction layer sends when no decision comes carries P-Registrar-Error', async () => {
    // Prepare
    const received = new Promise<string>((resolve) => client.on('message', (data) => resolve(data.toString())));
    const message = [
      'MESSAGE sip:alice%40example.com@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${client.address().port};branch=z9hG4bK-tu-1;rport`,
      'From: <sip:bob@example.com>;tag=b1',
      'To: <sip:alice@example.com>',
      'Call-ID: tu-timeout@test',
      'CSeq: 1 MESSAGE',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    client.send(message, port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act: past the non-INVITE server transaction's TU deadline (64·T1)
    clock.advance(64 * 500 + 1);
    const response = await received;

    // Assess
    expect(response).toMatch(/^SIP\/2\.0 408 /);
    expect(response).toMatch(/^P-Registrar-Error: Request Timeout\r$/m);
  });
});
