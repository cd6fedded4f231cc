/**
 * A gateway on loopback with in-process decisions over an embedded store in a temp directory, as
 * `npm start` composes it, with counters on the decisions for assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../functions/core/config';
import type { AorRecord } from '../../../functions/core/model';
import { EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { InProcessDecisionInvoker, type DecisionServices } from '../../../sip-gateway/src/decision/in-process-decision-invoker';
import { createLocalDecisionServices } from '../../../sip-gateway/src/decision/local-decision-services';
import { Gateway, type GatewayOptions } from '../../../sip-gateway/src/gateway';
import { createLogger } from '../../../sip-gateway/src/observability/logger';
import { MetricsRegistry } from '../../../sip-gateway/src/observability/metrics-registry';

/** A running gateway for a test. */
export interface LocalGateway {
  gateway: Gateway;
  store: EmbeddedBindingStore<AorRecord>;
  /** Decisions asked so far, per operation. */
  decisions: { register: number; registerReply: number; lookup: number };
  /** The gateway's counters (e.g. `upstream_replies`). */
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

/** Options of {@link startLocalGateway}. */
export interface LocalGatewayOptions {
  /** Configuration keys (CFG-1/CFG-4); `tokenSecret` defaults to a fixed test secret. */
  config: Record<string, unknown>;
  /** Delay before each `register` decision, to let UDP clients retransmit meanwhile. */
  registerDelayMs?: number;
  /** Transport timing for PTH-4 tests (short TCP idleness and unpin grace). */
  tcp?: Pick<GatewayOptions, 'tcpIdleTimeoutMs' | 'tcpUnpinGraceMs'>;
}

/** Starts a gateway; `config.listen` must name free loopback ports. */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const config = parseConfig({ tokenSecret: 'integration-test-secret', ...options.config });
  const dataDir = mkdtempSync(join(tmpdir(), 'gateway-'));
  const store = EmbeddedBindingStore.open<AorRecord>({ dataDir, shardCount: config.shardCount });
  const services = createLocalDecisionServices(config, store);
  const decisions = { register: 0, registerReply: 0, lookup: 0 };
  const counted: DecisionServices = {
    register: async (request) => {
      decisions.register += 1;
      if (options.registerDelayMs) await new Promise((resolve) => setTimeout(resolve, options.registerDelayMs));
      return services.register(request);
    },
    registerReply: (request) => {
      decisions.registerReply += 1;
      return services.registerReply(request);
    },
    lookup: (request) => {
      decisions.lookup += 1;
      return services.lookup(request);
    },
  };
  const logger = createLogger({ level: process.env.GATEWAY_LOG_LEVEL === undefined ? 'silent' : (process.env.GATEWAY_LOG_LEVEL as 'debug'), destination: process.stderr });
  const metrics = new MetricsRegistry({ namespace: 'test', write: () => undefined });
  const invoker = new InProcessDecisionInvoker({ services: counted, retryAfterMs: config.retryAfterMs, logger, metrics });
  const gateway = await Gateway.start({ config, invoker, gatewayId: 'gw-test', logger, metrics, ...options.tcp });
  return {
    gateway,
    store,
    decisions,
    metrics,
    async close() {
      await gateway.close();
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
