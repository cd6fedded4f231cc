import { allocatePort } from '../../support/ports';
import { runSipp, type RunSippOptions } from '../../support/sipp';
import { startMinimalResponder, type MinimalResponder } from '../../support/minimal-responder';
import { stopAllProcesses } from '../../support/process';

/** Responses SIPp received, in order, as full message texts. */
function receivedResponses(messages: string): string[] {
  return messages
    .split(/-{10,}[^\n]*\n/)
    .filter((block) => /received/i.test(block.split('\n')[0] ?? '') || /^\s*SIP\/2\.0 \d{3}/m.test(block))
    .map((block) => block.slice(block.search(/SIP\/2\.0 \d{3}/)))
    .filter((block) => /^SIP\/2\.0 \d{3}/.test(block));
}

function header(message: string, name: string): string[] {
  return message
    .split(/\r?\n/)
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((line) => line.slice(name.length + 1).trim());
}

describe('Issue 2 proof: SIPp against a responder built on codec + transactions + transports', () => {
  let responder: MinimalResponder;

  beforeAll(async () => {
    responder = await startMinimalResponder();
  });

  afterAll(async () => {
    await responder?.close();
    await stopAllProcesses();
  });

  async function sipp(scenario: string, transport: 'u1' | 't1', extra: Partial<RunSippOptions> = {}) {
    const remotePort = transport === 'u1' ? responder.udpPort : responder.tcpPort;
    return runSipp({
      scenario,
      remote: `127.0.0.1:${remotePort}`,
      local: { host: '127.0.0.1', port: await allocatePort() },
      transport,
      service: 'alice',
      keys: { domain: 'example.com', expires: '120' },
      timeoutMs: 8000,
      ...extra,
    });
  }

  it.each(['u1', 't1'] as const)('OPTIONS over %s is answered 200 OK with a To tag', async (transport) => {
    // Prepare
    const before = responder.seen.length;

    // Act
    const result = await sipp('options-uac.xml', transport);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stats).toEqual({ successfulCalls: 1, failedCalls: 0 });
    expect(responder.seen.slice(before).map((request) => request.method)).toEqual(['OPTIONS']);
  });

  it.each(['u1', 't1'] as const)('PTH-1: REGISTER over %s is answered 200 with its contact echoed; the TU saw received/rport', async (transport) => {
    // Prepare
    const before = responder.seen.length;
    const connectionsBefore = responder.metrics.snapshot().counters.connections_opened ?? 0;

    // Act
    const result = await sipp('register-uac.xml', transport);

    // Assess
    expect(result.exitCode).toBe(0);
    const [ok] = receivedResponses(result.messages);
    expect(ok).toMatch(/^SIP\/2\.0 200 OK/);
    const transportName = transport === 'u1' ? 'UDP' : 'TCP';
    expect(header(ok!, 'Contact')).toEqual([expect.stringMatching(new RegExp(`^<sip:alice@127\\.0\\.0\\.1:\\d+;transport=${transportName}>;expires=120$`))]);
    const seen = responder.seen.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.topVia).toMatch(new RegExp(`;rport=${seen[0]!.flow.remotePort};received=127\\.0\\.0\\.1$`));
    // RFC 3261 §18.2.2: over TCP the response reuses SIPp's connection; no connection of ours is opened.
    const connectionsOpened = (responder.metrics.snapshot().counters.connections_opened ?? 0) - connectionsBefore;
    expect(connectionsOpened).toBe(transport === 't1' ? 1 : 0);
  });

  // Over TCP there are no retransmissions: Timer J is 0 on reliable transports (RFC 3261 §17.2.2),
  // so a repeated request there is a new transaction by design.
  it.each(['u1'] as const)('GEN-6: a REGISTER repeated over %s after its 200 gets the same 200 from the transaction; the TU sees it once', async (transport) => {
    // Prepare
    const before = responder.seen.length;

    // Act
    const result = await sipp('register-repeat-uac.xml', transport);

    // Assess
    expect(result.exitCode).toBe(0);
    const responses = receivedResponses(result.messages);
    expect(responses).toHaveLength(3);
    expect(responses[2]).toBe(responses[0]);
    expect(responder.seen.slice(before).map((request) => `${request.method} ${request.cseq}`)).toEqual(['REGISTER 7', 'OPTIONS 8']);
  });
});

describe('Issue 2 proof: UDP retransmissions while the answer is pending', () => {
  let responder: MinimalResponder;

  beforeAll(async () => {
    responder = await startMinimalResponder({ answerDelayMs: 1300 });
  });

  afterAll(async () => {
    await responder?.close();
    await stopAllProcesses();
  });

  it('GEN-6: SIPp retransmits a REGISTER (Timer E) while the TU is deciding; the TU sees it once and SIPp gets the 200', async () => {
    // Prepare
    const receivedBefore = responder.metrics.snapshot().counters.received_messages ?? 0;

    // Act
    const result = await runSipp({
      scenario: 'register-uac.xml',
      remote: `127.0.0.1:${responder.udpPort}`,
      local: { host: '127.0.0.1', port: await allocatePort() },
      transport: 'u1',
      service: 'bob',
      keys: { domain: 'example.com', expires: '60' },
      timeoutMs: 8000,
    });

    // Assess
    expect(result.exitCode).toBe(0);
    const transmissions = (responder.metrics.snapshot().counters.received_messages ?? 0) - receivedBefore;
    expect(transmissions).toBeGreaterThanOrEqual(2);
    expect(responder.seen.map((request) => request.method)).toEqual(['REGISTER']);
  });
});
