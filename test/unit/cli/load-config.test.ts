import { ConfigError } from '../../../functions/core/errors';
import { loadConfig, loadRuntimeConfig, parseCommandLine } from '../../../sip-gateway/src/cli/load-config';

const files: Record<string, string> = {
  'mid.json': JSON.stringify({ mode: 1, upstreamUri: 'sip:registrar.example.net', cseqDelay: 25, listen: ['udp:127.0.0.1:5060'] }),
  'broken.json': '{"mode": 1,',
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error('ENOENT');
  return text;
};

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Function: parseCommandLine', () => {
  it('CFG-4: decodes numbers and booleans, keeps text keys as text, accumulates list keys', () => {
    // Act
    const line = parseCommandLine([
      '--config', 'mid.json', '--mode', '2', '--forceRegistration=true', '--tokenSecret', '1234',
      '--listen', 'udp:127.0.0.10:5060', '--listen', 'tcp:127.0.0.10:5060',
    ]);

    // Assess
    expect(line).toEqual({
      configFile: 'mid.json',
      overrides: { mode: 2, forceRegistration: true, tokenSecret: '1234', listen: ['udp:127.0.0.10:5060', 'tcp:127.0.0.10:5060'] },
    });
  });

  it('CFG-4: a flag without value is refused naming the key', () => {
    // Act
    const error = configErrorOf(() => parseCommandLine(['--mode']));

    // Assess
    expect(error.key).toBe('mode');
  });
});

describe('Function: loadConfig', () => {
  it('CFG-4: the JSON file configures, flags override single keys', () => {
    // Act
    const config = loadConfig(['--config', 'mid.json', '--mode', '2', '--upstreamUri', 'sip:other.example.net'], readFile);

    // Assess
    expect(config).toMatchObject({ mode: 2, upstreamUri: 'sip:other.example.net', cseqDelayMs: 25_000 });
    expect(config.listen).toEqual([{ transport: 'udp', host: '127.0.0.1', port: 5060 }]);
  });

  it('CFG-1: upstreamUri is required', () => {
    // Act
    const error = configErrorOf(() => loadConfig(['--mode', '1'], readFile));

    // Assess
    expect(error.key).toBe('upstreamUri');
  });

  it('CFG-4: an unknown key fails naming it', () => {
    // Act
    const error = configErrorOf(() => loadConfig(['--config', 'mid.json', '--colour', 'blue'], readFile));

    // Assess
    expect(error.key).toBe('colour');
    expect(error.message).not.toContain('\n');
  });

  it('CFG-2: a bad value from a flag fails naming the key', () => {
    // Act
    const error = configErrorOf(() => loadConfig(['--config', 'mid.json', '--mode', '3'], readFile));

    // Assess
    expect(error.key).toBe('mode');
  });

  it.each([['missing.json'], ['broken.json']])('CFG-4: an unreadable or invalid file %s fails naming config', (file) => {
    // Act
    const error = configErrorOf(() => loadConfig(['--config', file], readFile));

    // Assess
    expect(error.key).toBe('config');
  });
});

describe('Function: loadConfig with MID_REGISTRAR_CONFIG', () => {
  it('CFG-4: the environment JSON configures the container when no --config is given; flags still override', () => {
    // Act
    const config = loadConfig(['--mode', '0'], readFile, JSON.stringify({ mode: 2, upstreamUri: 'sip:registrar.example.net' }));

    // Assess
    expect([config.mode, config.upstreamUri]).toEqual([0, 'sip:registrar.example.net']);
  });

  it('CFG-4: invalid environment JSON fails naming MID_REGISTRAR_CONFIG', () => {
    // Act
    const error = configErrorOf(() => loadConfig([], readFile, '{'));

    // Assess
    expect(error.key).toBe('MID_REGISTRAR_CONFIG');
  });
});

describe('Function: loadRuntimeConfig', () => {
  it('takes internalHop, dynamodbEndpoint and bindingsTable out of the CFG keys (file or flags)', () => {
    // Act
    const { config, runtime } = loadRuntimeConfig(
      ['--internalHop', '127.0.0.21:5090', '--dynamodbEndpoint', 'http://127.0.0.1:4567', '--bindingsTable', 'bindings'],
      readFile,
      JSON.stringify({ mode: 1, upstreamUri: 'sip:registrar.example.net' }),
    );

    // Assess
    expect(config.mode).toBe(1);
    expect(runtime).toEqual({ internalHop: { address: '127.0.0.21', port: 5090 }, dynamodb: { endpoint: 'http://127.0.0.1:4567', tableName: 'bindings' } });
  });

  it('without deployment keys gives the embedded store and no hop', () => {
    // Act
    const { runtime } = loadRuntimeConfig(['--config', 'mid.json'], readFile);

    // Assess
    expect(runtime).toEqual({});
  });

  it.each([
    [['--internalHop', 'gateway-1'], 'internalHop'],
    [['--internalHop', '127.0.0.21:70000'], 'internalHop'],
    [['--dynamodbEndpoint', 'http://127.0.0.1:4567'], 'bindingsTable'],
    [['--bindingsTable', 'bindings'], 'dynamodbEndpoint'],
  ])('CFG-2: %j is refused naming %s', (flags, key) => {
    // Act
    const error = configErrorOf(() => loadRuntimeConfig(['--config', 'mid.json', ...flags], readFile));

    // Assess
    expect(error.key).toBe(key);
  });
});
