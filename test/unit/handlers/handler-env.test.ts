import { HandlerEnvError, readHandlerEnv } from '../../../functions/handlers/handler-env';

const CONFIG = JSON.stringify({ upstreamUri: 'sip:registrar.example.net', advertisedUri: 'sip:203.0.113.10:5060', shardCount: 64 });

describe('Function: readHandlerEnv', () => {
  it('parses the configuration once into a frozen object with the table name', () => {
    // Act
    const env = readHandlerEnv({ MID_REGISTRAR_CONFIG: CONFIG, BINDINGS_TABLE_NAME: 'bindings' });

    // Assess
    expect(env.tableName).toBe('bindings');
    expect(env.config.shardCount).toBe(64);
    expect(Object.isFrozen(env)).toBe(true);
  });

  it.each([
    ['no table name', { MID_REGISTRAR_CONFIG: CONFIG }, /BINDINGS_TABLE_NAME is not set/],
    ['no configuration', { BINDINGS_TABLE_NAME: 'bindings' }, /MID_REGISTRAR_CONFIG is not set/],
    ['configuration not JSON', { BINDINGS_TABLE_NAME: 'bindings', MID_REGISTRAR_CONFIG: '{' }, /not valid JSON/],
    ['unknown configuration key', { BINDINGS_TABLE_NAME: 'bindings', MID_REGISTRAR_CONFIG: '{"upstreamUri":"sip:r.example.net","bogus":1}' }, /bogus/],
  ])('fails fast naming the problem: %s', (_case, env, message) => {
    // Act
    const reading = () => readHandlerEnv(env);

    // Assess
    expect(reading).toThrow(HandlerEnvError);
    expect(reading).toThrow(message);
  });
});
