import * as fs from 'node:fs';
import * as path from 'node:path';
import { HANDLER_METRIC } from '../../../functions/handlers/decision-batch-handler';
import { projectPath } from '../../../infra/lib/project-paths';
import { DEFAULT_METRIC_CATALOG, METRIC, metricEnvironment } from '../../../infra/lib/metric-catalog';

/** All TypeScript source under a directory of the repository, concatenated. */
function sourceOf(dir: string): string {
  const root = projectPath(dir);
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => fs.readFileSync(path.join(root, file), 'utf8'))
    .join('\n');
}

describe('metric catalog', () => {
  const producers = `${sourceOf('sip-gateway/src')}\n${sourceOf('functions')}`;
  const emitted = (name: string): boolean => producers.includes(`'${name}'`);

  it.each(Object.entries(METRIC))('the dashboard metric %s (%s) is emitted by the gateway or the functions', (_key, name) => {
    // Assess
    expect(emitted(name)).toBe(true);
  });

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
