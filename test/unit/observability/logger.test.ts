import { Writable } from 'node:stream';
import { createLogger } from '../../../sip-gateway/src/observability/logger';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return {
    stream,
    lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('Function: createLogger', () => {
  it('writes one JSON object per line with level label, ISO time, name and base fields', () => {
    // Prepare
    const sink = capture();
    const logger = createLogger({ level: 'info', name: 'sip-gateway', base: { instanceId: 'gw-1' }, destination: sink.stream });

    // Act
    logger.warn({ source: '127.0.0.1:5060' }, 'malformed message dropped');

    // Assess
    const [line] = sink.lines();
    expect(line).toMatchObject({ level: 'warn', name: 'sip-gateway', instanceId: 'gw-1', source: '127.0.0.1:5060', msg: 'malformed message dropped' });
    expect(typeof line!.time).toBe('string');
    expect(Number.isNaN(Date.parse(line!.time as string))).toBe(false);
  });

  it('drops lines below the configured level', () => {
    // Prepare
    const sink = capture();
    const logger = createLogger({ level: 'warn', destination: sink.stream });

    // Act
    logger.info('not written');
    logger.debug('not written either');
    logger.error('written');

    // Assess
    expect(sink.lines().map((line) => line.msg)).toEqual(['written']);
  });
});
