import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../functions/core/config';
import { CONTRACT_VERSION } from '../../../functions/core/contract';
import { CORE_METRICS } from '../../../functions/core/core-metrics';
import type { AorRecord } from '../../../functions/core/model';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { createLocalDecisionServices } from '../../../sip-gateway/src/decision/local-decision-services';
import type { Logger } from '../../../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../../../sip-gateway/src/observability/metrics-registry';

const config = parseConfig({ mode: 1, upstreamUri: 'sip:registrar.example.net', listen: ['udp:127.0.0.1:5060'], tokenSecret: 's' });
const flow = { transport: 'udp' as const, remoteAddress: '192.0.2.7', remotePort: 5062, localAddress: '127.0.0.1', localPort: 5060, gatewayId: 'gw' };

describe('Function: createLocalDecisionServices', () => {
  let dataDir: string;
  let store: EmbeddedBindingStore<AorRecord>;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-services-'));
    store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: 4 });
  });

  afterEach(() => {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('RPL-5: a 2xx missing the relayed contact is logged as a warning and counted as upstream_contact_missing', async () => {
    // Prepare
    const metrics = new MetricsRegistry({ namespace: 'Test', write: () => undefined });
    const warn = jest.fn();
    const logger = { warn } as unknown as Logger;
    const services = createLocalDecisionServices(config, store, { logger, metrics });
    const forward = await services.register({
      version: CONTRACT_VERSION,
      requestUri: 'sip:example.com',
      from: '<sip:alice@example.com>;tag=f1',
      to: '<sip:alice@example.com>',
      contacts: ['<sip:alice@192.0.2.7:5062>'],
      expires: '60',
      callId: 'c1',
      cseq: 1,
      path: [],
      supported: [],
      hasAuthorization: false,
      flow,
      receivedAtMs: 1_000_000,
    });
    if (forward.kind !== 'forward') throw new Error(`expected forward, got ${forward.kind}`);

    // Act
    await services.registerReply({
      version: CONTRACT_VERSION,
      context: forward.context,
      outcome: { kind: 'final', status: 200, contacts: [], receivedAtMs: 1_000_100, sentAtMs: 1_000_050 },
    });

    // Assess
    expect(metrics.snapshot().counters[CORE_METRICS.upstreamContactMissing]).toBe(1);
    expect(warn).toHaveBeenCalledWith({ event: expect.objectContaining({ kind: CORE_METRICS.upstreamContactMissing, aor: 'alice@example.com' }) }, expect.stringContaining('RPL-5'));
  });
});
