import { DeploymentConfigError } from '../../../infra/lib/errors';
import { ADVERTISED_URI_PLACEHOLDER, readDeploymentSettings, type ContextReader } from '../../../infra/lib/deployment-config';

/** A context reader over a plain object (what `-c key=value` and cdk.json provide). */
function contextOf(values: Record<string, unknown>): ContextReader {
  return (key) => values[key];
}

const CONFIG = { upstreamUri: 'sip:registrar.example.com' };

/** The error thrown by `act`, or a failure when nothing was thrown. */
function errorOf(act: () => unknown): DeploymentConfigError {
  try {
    act();
  } catch (error) {
    if (error instanceof DeploymentConfigError) return error;
    throw error;
  }
  throw new Error('expected a DeploymentConfigError');
}

describe('readDeploymentSettings', () => {
  describe('regions', () => {
    it('reads a comma-separated list, trimmed and de-duplicated, in order', () => {
      // Act
      const settings = readDeploymentSettings(contextOf({ regions: 'eu-west-1, us-east-1,eu-west-1', config: CONFIG }));
      // Assess
      expect(settings.regions).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('reads a JSON array (cdk.json may hold one)', () => {
      // Act
      const settings = readDeploymentSettings(contextOf({ regions: ['ap-southeast-2'], config: CONFIG }));
      // Assess
      expect(settings.regions).toEqual(['ap-southeast-2']);
    });

    it.each([[undefined], [''], ['eu-west-1,Frankfurt'], [42]])('refuses %p, naming the key', (regions) => {
      // Act
      const error = errorOf(() => readDeploymentSettings(contextOf({ regions, config: CONFIG })));
      // Assess
      expect(error.key).toBe('regions');
      expect(error.message).toContain('regions');
    });
  });

  describe('account', () => {
    it('targets the account from context, else the CLI default', () => {
      // Act
      const fromContext = readDeploymentSettings(contextOf({ regions: 'eu-west-1', account: '111122223333', config: CONFIG }), { defaultAccount: '444455556666' });
      const fromDefault = readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: CONFIG }), { defaultAccount: '444455556666' });
      const agnostic = readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: CONFIG }));
      // Assess
      expect(fromContext.account).toBe('111122223333');
      expect(fromDefault.account).toBe('444455556666');
      expect(agnostic.account).toBeUndefined();
    });

    it('refuses an account that is not 12 digits', () => {
      // Act
      const error = errorOf(() => readDeploymentSettings(contextOf({ regions: 'eu-west-1', account: '1234', config: CONFIG })));
      // Assess
      expect(error.key).toBe('account');
    });
  });

  describe('product configuration', () => {
    it('CFG-4: accepts the same JSON keys as npm start and applies their defaults', () => {
      // Act
      const settings = readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: { ...CONFIG, mode: 2, cseqDelay: 5 } }));
      // Assess
      expect(settings.productConfig).toEqual({ ...CONFIG, mode: 2, cseqDelay: 5 });
      expect(settings.parsedConfig).toMatchObject({ mode: 2, cseqDelayMs: 5000, shardCount: 16, healthPort: 8080 });
    });

    it('validates advertisedUri only when given; absent, the stack advertises its load balancer', () => {
      // Act
      const settings = readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: CONFIG }));
      // Assess
      expect(settings.parsedConfig.advertisedUri).toBe(ADVERTISED_URI_PLACEHOLDER);
      expect(settings.productConfig).not.toHaveProperty('advertisedUri');
    });

    it('reads a JSON string given with -c config=…', () => {
      // Act
      const settings = readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: JSON.stringify({ ...CONFIG, mode: 0 }) }));
      // Assess
      expect(settings.parsedConfig.mode).toBe(0);
    });

    it('reads configFile relative to the base directory, in place of config', () => {
      // Prepare
      const files: Record<string, string> = { '/deploy/prod.json': JSON.stringify({ ...CONFIG, mode: 2 }) };
      // Act
      const settings = readDeploymentSettings(
        contextOf({ regions: 'eu-west-1', config: { upstreamUri: 'sip:ignored.example.com' }, configFile: 'prod.json' }),
        { baseDir: '/deploy', readFile: (file) => files[file] ?? (() => { throw new Error('ENOENT'); })() },
      );
      // Assess
      expect(settings.productConfig).toEqual({ ...CONFIG, mode: 2 });
    });

    it('names configFile when the file cannot be read or is not JSON', () => {
      // Act
      const missing = errorOf(() => readDeploymentSettings(contextOf({ regions: 'eu-west-1', configFile: 'nope.json' }), {
        readFile: () => { throw new Error('ENOENT: no such file'); },
      }));
      const broken = errorOf(() => readDeploymentSettings(contextOf({ regions: 'eu-west-1', configFile: 'bad.json' }), { readFile: () => '{' }));
      // Assess
      expect(missing.key).toBe('configFile');
      expect(missing.message).toContain('ENOENT');
      expect(broken.key).toBe('configFile');
    });

    it.each([
      [{ ...CONFIG, mode: 3 }, 'config.mode'],
      [{ mode: 1 }, 'config.upstreamUri'],
      [{ ...CONFIG, outgoingExpires: 30, refreshMargin: 32 }, 'config.outgoingExpires'],
      [{ ...CONFIG, colour: 'blue' }, 'config.colour'],
      [{ ...CONFIG, insertion: 'path', mode: 2 }, 'config.insertion'],
    ])('CFG-2: fails synth on %p naming %s', (config, key) => {
      // Act
      const error = errorOf(() => readDeploymentSettings(contextOf({ regions: 'eu-west-1', config })));
      // Assess
      expect(error.key).toBe(key);
      expect(error.message).toContain(key.slice('config.'.length));
    });

    it.each(['listen', 'dataDir', 'tokenSecret', 'upstreamAuth'])('refuses the deployment-owned key %s with the reason', (key) => {
      // Act
      const error = errorOf(() => readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: { ...CONFIG, [key]: 'x' } })));
      // Assess
      expect(error.key).toBe(`config.${key}`);
      expect(error.message).toMatch(/must not be set: .{20,}/);
    });

    it('refuses a missing configuration with instructions', () => {
      // Act
      const error = errorOf(() => readDeploymentSettings(contextOf({ regions: 'eu-west-1' })));
      // Assess
      expect(error.key).toBe('config');
      expect(error.message).toContain('configFile');
    });

    it('DRG-11: takes upstream credentials only as a Secrets Manager name', () => {
      // Act
      const settings = readDeploymentSettings(contextOf({ regions: 'eu-west-1', config: CONFIG, upstreamAuthSecret: 'prod/upstream-auth' }));
      // Assess
      expect(settings.upstreamAuthSecret).toBe('prod/upstream-auth');
      expect(settings.productConfig).not.toHaveProperty('upstreamAuth');
    });
  });
});
