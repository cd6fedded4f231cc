import { MetricsRegistry } from '../../../sip-gateway/src/observability/metrics-registry';

function parse(line: string): Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } } {
  return JSON.parse(line);
}

describe('Class: MetricsRegistry', () => {
  describe('Method: flush', () => {
    it('ERR-3: writes counters such as malformed_messages as one EMF document with namespace and dimensions', () => {
      // Prepare
      const lines: string[] = [];
      const metrics = new MetricsRegistry({ namespace: 'SipMidRegistrar', dimensions: { Service: 'sip-gateway' }, write: (line) => lines.push(line) });
      metrics.increment('malformed_messages');
      metrics.increment('malformed_messages', 2);
      metrics.increment('connections_opened');

      // Act
      metrics.flush(1_700_000_000_000);

      // Assess
      expect(lines).toHaveLength(1);
      const document = parse(lines[0]!);
      expect(document._aws.Timestamp).toBe(1_700_000_000_000);
      expect(document._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: 'SipMidRegistrar',
          Dimensions: [['Service']],
          Metrics: [
            { Name: 'malformed_messages', Unit: 'Count' },
            { Name: 'connections_opened', Unit: 'Count' },
          ],
        },
      ]);
      expect(document.Service).toBe('sip-gateway');
      expect(document.malformed_messages).toBe(3);
      expect(document.connections_opened).toBe(1);
    });

    it('resets after a flush, so each flush reports one interval and idle counters report 0', () => {
      // Prepare
      const lines: string[] = [];
      const metrics = new MetricsRegistry({ namespace: 'N', write: (line) => lines.push(line) });
      metrics.increment('dropped_messages', 5);
      metrics.observe('decision_latency', 10);
      metrics.flush(1);

      // Act
      metrics.flush(2);

      // Assess
      expect(lines).toHaveLength(2);
      const second = parse(lines[1]!);
      expect(second.dropped_messages).toBe(0);
      expect(second.decision_latency).toBeUndefined();
      expect(metrics.snapshot().histograms).toEqual({});
    });

    it('splits histogram samples into documents of at most 100 values', () => {
      // Prepare
      const lines: string[] = [];
      const metrics = new MetricsRegistry({ namespace: 'N', write: (line) => lines.push(line) });
      for (let i = 0; i < 250; i += 1) metrics.observe('decision_latency', i, 'Milliseconds');

      // Act
      metrics.flush(5);

      // Assess
      const values = lines.map((line) => parse(line).decision_latency as number[]);
      expect(values.map((chunk) => chunk.length)).toEqual([100, 100, 50]);
      expect(values.flat()).toEqual(Array.from({ length: 250 }, (_, i) => i));
      expect(parse(lines[0]!)._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'decision_latency', Unit: 'Milliseconds' }]);
    });

    it('writes nothing when nothing was ever recorded', () => {
      // Prepare
      const lines: string[] = [];
      const metrics = new MetricsRegistry({ namespace: 'N', write: (line) => lines.push(line) });

      // Act
      const written = metrics.flush(1);

      // Assess
      expect(written).toEqual([]);
      expect(lines).toEqual([]);
    });
  });

  describe('Method: observe', () => {
    it('keeps exact count/sum/min/max beyond the sample cap', () => {
      // Prepare
      const metrics = new MetricsRegistry({ namespace: 'N', write: () => undefined, maxSamplesPerFlush: 3 });

      // Act
      for (const value of [5, 1, 9, 4, 7]) metrics.observe('size', value, 'Bytes');

      // Assess
      expect(metrics.snapshot().histograms.size).toEqual({ unit: 'Bytes', count: 5, sum: 26, min: 1, max: 9, samples: [5, 1, 9] });
    });
  });

  describe('Method: startPeriodicFlush', () => {
    afterEach(() => jest.useRealTimers());

    it('flushes on every interval and once more when stopped', () => {
      // Prepare
      jest.useFakeTimers();
      const lines: string[] = [];
      const metrics = new MetricsRegistry({ namespace: 'N', write: (line) => lines.push(line) });
      let nowMs = 1000;
      metrics.increment('a');
      const stop = metrics.startPeriodicFlush(60_000, () => nowMs);

      // Act
      nowMs = 61_000;
      jest.advanceTimersByTime(60_000);
      metrics.increment('a', 4);
      nowMs = 70_000;
      stop();
      jest.advanceTimersByTime(120_000);

      // Assess
      expect(lines.map((line) => [parse(line)._aws.Timestamp, parse(line).a])).toEqual([
        [61_000, 1],
        [70_000, 4],
      ]);
    });
  });
});
