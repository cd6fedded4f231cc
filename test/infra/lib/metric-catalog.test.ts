import { HANDLER_METRIC } from '../../../functions/handlers/decision-batch-handler';
import { DEFAULT_METRIC_CATALOG, METRIC, metricEnvironment } from '../../../infra/lib/metric-catalog';

describe('metric catalog', () => {
  it('names the lookup metrics exactly as the decision functions publish them', () => {
    // Prepare
    const published = new Set<string>(Object.values(HANDLER_METRIC));
    // Act
    const drawn = [METRIC.lookupHit, METRIC.lookupMiss, METRIC.lookupRejected, METRIC.lookupRelayed];
    // Assess
    expect(drawn.filter((name) => !published.has(name))).toEqual([]);
  });

  it('tells Powertools the namespace and the service dimension the dashboard reads', () => {
    // Act
    const env = metricEnvironment(DEFAULT_METRIC_CATALOG, 'functions');
    // Assess
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(DEFAULT_METRIC_CATALOG.namespace);
    expect(env.POWERTOOLS_SERVICE_NAME).toBe(DEFAULT_METRIC_CATALOG.functionDimensions.service);
  });

  it('tells the gateway the namespace and the flush interval the autoscaling target assumes', () => {
    // Act
    const env = metricEnvironment(DEFAULT_METRIC_CATALOG, 'gateway');
    // Assess
    expect(env).toEqual({ METRICS_NAMESPACE: 'SipMidRegistrar', METRICS_FLUSH_INTERVAL_SEC: '60' });
  });
});
