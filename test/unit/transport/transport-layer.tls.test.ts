import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { DEFAULT_SIP_LIMITS } from '../../../sip-gateway/src/sip/limits';
import { createResponse, type SipMessage } from '../../../sip-gateway/src/sip/message';
import { createSipTransportCodec } from '../../../sip-gateway/src/transport/sip-transport-codec';
import { TransportLayer } from '../../../sip-gateway/src/transport/transport-layer';
import type { Flow } from '../../../sip-gateway/src/transport/flow';

/** A throw-away self-signed certificate for 127.0.0.1. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const options = [
  'OPTIONS sip:127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-tls1;rport',
  'From: <sip:probe@example.com>;tag=f1',
  'To: <sip:127.0.0.1>',
  'Call-ID: tls-1',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('Class: TransportLayer (TLS)', () => {
  const credentials = selfSigned();
  let transport: TransportLayer<SipMessage> | undefined;
  let client: tls.TLSSocket | undefined;

  afterEach(async () => {
    client?.destroy();
    await transport?.close();
  });

  it('fails to listen on tls: without a key and certificate, naming the spec', async () => {
    // Prepare
    transport = new TransportLayer<SipMessage>({ codec: createSipTransportCodec(), limits: DEFAULT_SIP_LIMITS });

    // Act
    const listening = transport.listen(['tls:127.0.0.1:0']);

    // Assess
    await expect(listening).rejects.toThrow('"tls:127.0.0.1:0"');
  });

  it('accepts a request over TLS and answers on the same TLS connection', async () => {
    // Prepare
    transport = new TransportLayer<SipMessage>({ codec: createSipTransportCodec(), limits: DEFAULT_SIP_LIMITS, tls: credentials });
    const [bound] = await transport.listen(['tls:127.0.0.1:0']);
    const inbox: Array<{ message: SipMessage; flow: Flow }> = [];
    transport.onMessage((message, flow) => inbox.push({ message, flow }));
    client = tls.connect({ host: '127.0.0.1', port: bound!.port, ca: credentials.cert });
    let received = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => {
      received += chunk;
    });
    await new Promise<void>((resolve) => client!.once('secureConnect', () => resolve()));

    // Act
    client.write(options);
    for (let i = 0; i < 200 && inbox.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const { message, flow } = inbox[0]!;
    await transport.sendResponse(createResponse(message, 200, 'OK', { toTag: 't' }), flow);
    for (let i = 0; i < 200 && received === ''; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));

    // Assess
    expect(flow.transport).toBe('tls');
    expect(flow.connectionId).toMatch(/^s0-/);
    expect(received).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it('PTH-3: opens a verified TLS connection to a destination and sends over it', async () => {
    // Prepare
    transport = new TransportLayer<SipMessage>({ codec: createSipTransportCodec(), limits: DEFAULT_SIP_LIMITS, tls: { ...credentials, ca: credentials.cert } });
    await transport.listen(['tls:127.0.0.1:0']);
    let received = '';
    const server = tls.createServer(credentials, (socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;

    // Act
    const flow = await transport.send(Buffer.from(options), { transport: 'tls', address: '127.0.0.1', port });
    for (let i = 0; i < 200 && received === ''; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    await transport.close();
    await new Promise((resolve) => server.close(resolve));

    // Assess
    expect(flow.transport).toBe('tls');
    expect(received).toBe(options);
  });

  it('refuses to send to a TLS peer whose certificate it cannot verify', async () => {
    // Prepare
    transport = new TransportLayer<SipMessage>({ codec: createSipTransportCodec(), limits: DEFAULT_SIP_LIMITS, tls: credentials });
    await transport.listen(['tls:127.0.0.1:0']);
    const server = tls.createServer(credentials, (socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;

    // Act
    const sending = transport.send(Buffer.from(options), { transport: 'tls', address: '127.0.0.1', port });

    // Assess
    try {
      await expect(sending).rejects.toThrow(expect.objectContaining({ name: 'TransportSendError' }));
    } finally {
      await transport.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
