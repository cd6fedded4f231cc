/**
 * Named counters and histograms accumulated in memory and flushed as CloudWatch Embedded Metric
 * Format (EMF) lines. On Fargate, stdout goes to CloudWatch Logs, which extracts EMF metrics without
 * any PutMetricData call.
 */

/** CloudWatch units used by the gateway. */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'None';

/** Options for {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** CloudWatch namespace. */
  namespace: string;
  /** Dimensions on every metric (e.g. `{ Service: 'sip-gateway' }`). */
  dimensions?: Record<string, string>;
  /** Receives each EMF line; default writes to stdout. */
  write?: (line: string) => void;
  /** Cap on histogram samples kept between flushes; summaries stay exact beyond it. Default 1000. */
  maxSamplesPerFlush?: number;
}

/** Exact summary of one histogram since the last flush. */
export interface HistogramSummary {
  unit: MetricUnit;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Recorded values, at most `maxSamplesPerFlush` of them, in arrival order. */
  samples: number[];
}

/** Everything accumulated since the last flush. */
export interface MetricsSnapshot {
  counters: Record<string, number>;
  histograms: Record<string, HistogramSummary>;
}

/** EMF allows at most 100 values per metric in one document. */
const EMF_MAX_VALUES = 100;
/** EMF allows at most 100 metrics per document. */
const EMF_MAX_METRICS = 100;

/**
 * Accumulates counters and histograms; {@link MetricsRegistry.flush} turns them into EMF documents
 * and resets them, so each flush reports one interval.
 *
 * @example
 * const metrics = new MetricsRegistry({ namespace: 'SipMidRegistrar', dimensions: { Service: 'sip-gateway' } });
 * metrics.increment('malformed_messages');
 * metrics.observe('decision_latency', 12, 'Milliseconds');
 * const stop = metrics.startPeriodicFlush(60000);
 */
export class MetricsRegistry {
  private counters = new Map<string, { value: number; unit: MetricUnit }>();
  private histograms = new Map<string, HistogramSummary>();
  private readonly write: (line: string) => void;
  private readonly maxSamples: number;

  constructor(private readonly options: MetricsRegistryOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.maxSamples = options.maxSamplesPerFlush ?? 1000;
  }

  /** Adds `by` (default 1) to counter `name`. */
  increment(name: string, by = 1, unit: MetricUnit = 'Count'): void {
    const counter = this.counters.get(name);
    if (counter) counter.value += by;
    else this.counters.set(name, { value: by, unit });
  }

  /** Records one histogram value. */
  observe(name: string, value: number, unit: MetricUnit = 'Milliseconds'): void {
    let histogram = this.histograms.get(name);
    if (!histogram) {
      histogram = { unit, count: 0, sum: 0, min: value, max: value, samples: [] };
      this.histograms.set(name, histogram);
    }
    histogram.count += 1;
    histogram.sum += value;
    histogram.min = Math.min(histogram.min, value);
    histogram.max = Math.max(histogram.max, value);
    if (histogram.samples.length < this.maxSamples) histogram.samples.push(value);
  }

  /** What has accumulated since the last flush (a copy). */
  snapshot(): MetricsSnapshot {
    const counters: Record<string, number> = {};
    for (const [name, counter] of this.counters) counters[name] = counter.value;
    const histograms: Record<string, HistogramSummary> = {};
    for (const [name, histogram] of this.histograms) histograms[name] = { ...histogram, samples: [...histogram.samples] };
    return { counters, histograms };
  }

  /**
   * Writes the accumulated metrics as EMF lines stamped `nowMs` and resets them. Counters are
   * reported once per flush (zero counters included, so dashboards see a 0 rather than a gap);
   * histogram samples are split across documents of at most 100 values. Returns the lines written.
   */
  flush(nowMs: number): string[] {
    type Entry = { name: string; unit: MetricUnit; chunks: Array<number | number[]> };
    const entries: Entry[] = [];
    for (const [name, counter] of this.counters) {
      entries.push({ name, unit: counter.unit, chunks: [counter.value] });
      counter.value = 0;
    }
    for (const [name, histogram] of this.histograms) {
      const chunks: number[][] = [];
      for (let from = 0; from < histogram.samples.length; from += EMF_MAX_VALUES) {
        chunks.push(histogram.samples.slice(from, from + EMF_MAX_VALUES));
      }
      entries.push({ name, unit: histogram.unit, chunks });
    }
    this.histograms = new Map();
    const dimensions = this.options.dimensions ?? {};
    const lines: string[] = [];
    // Groups of at most 100 metric names; within a group, document k carries every metric's k-th chunk.
    for (let first = 0; first < entries.length; first += EMF_MAX_METRICS) {
      const group = entries.slice(first, first + EMF_MAX_METRICS);
      const documentCount = Math.max(...group.map((entry) => entry.chunks.length));
      for (let k = 0; k < documentCount; k += 1) {
        const present = group.filter((entry) => k < entry.chunks.length);
        const values: Record<string, number | number[]> = {};
        for (const entry of present) values[entry.name] = entry.chunks[k]!;
        lines.push(
          JSON.stringify({
            _aws: {
              Timestamp: nowMs,
              CloudWatchMetrics: [
                {
                  Namespace: this.options.namespace,
                  Dimensions: [Object.keys(dimensions)],
                  Metrics: present.map((entry) => ({ Name: entry.name, Unit: entry.unit })),
                },
              ],
            },
            ...dimensions,
            ...values,
          }),
        );
      }
    }
    for (const line of lines) this.write(line);
    return lines;
  }

  /**
   * Flushes every `intervalMs` until the returned function is called (which flushes once more).
   * `nowMs` is injectable for tests; the timer is unref'd so it never keeps the process alive.
   */
  startPeriodicFlush(intervalMs: number, nowMs: () => number = () => Date.now()): () => void {
    const timer = setInterval(() => this.flush(nowMs()), intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.flush(nowMs());
    };
  }
}
