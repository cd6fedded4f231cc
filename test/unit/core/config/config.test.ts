import { ConfigError } from '../../../../functions/core/errors';
import { parseConfig } from '../../../../functions/core/config';

const base = { upstreamUri: 'sip:registrar.example.net' };

function configErrorOf(raw: unknown): ConfigError {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parseConfig accepted the configuration');
}

describe('parseConfig', () => {
  it('CFG-1: only upstreamUri set gives every documented default', () => {
    // Prepare / Act
    const config = parseConfig(base);

    // Assess
    expect(config).toMatchObject({
      mode: 1,
      upstreamUri: 'sip:registrar.example.net',
      trustedUpstreamSources: ['registrar.example.net'],
      advertisedUri: 'sip:0.0.0.0:5060',
      insertion: 'contact',
      contactIdIn: 'param',
      contactIdParam: 'ctid',
      atEscape: '%40',
      outgoingExpiresSec: 3600,
      minExpiresSec: 10,
      maxExpiresSec: 3600,
      defaultExpiresSec: 3600,
      tooBrief: 'clamp',
      maxContacts: 0,
      forceRegistration: false,
      absorbRequiresSameCallId: true,
      trustNewContacts: false,
      allowDupCseq: true,
      cseqDelayMs: 20_000,
      refreshMarginMs: 32_000,
      upstreamTimeoutMs: 10_000,
      deregisterBoundMs: 30_000,
      retryMaxAttempts: 5,
      retryBackoffBaseMs: 5_000,
      retryBackoffMaxMs: 300_000,
      retryAfterMs: 30_000,
      pathMode: 'lazy',
      maxUsernameLength: 64,
      maxDomainLength: 64,
      maxAorLength: 256,
      maxContactLength: 255,
      maxMessageSize: 65535,
      inviteTimeoutMs: 180_000,
      dataDir: './data',
      healthPort: 8080,
      shardCount: 16,
      decisionBatchMax: 10,
      decisionBatchWaitMs: 2,
    });
    expect(config.listen).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5060 },
      { transport: 'tcp', host: '0.0.0.0', port: 5060 },
    ]);
    expect(config.upstreamOutboundProxy).toBeUndefined();
    expect(config.upstreamAuth).toBeUndefined();
    expect(config.tokenSecret).toBeUndefined();
  });

  it('CFG-1: trusted sources default to the upstream and outbound proxy addresses, any port', () => {
    // Act
    const config = parseConfig({ upstreamUri: 'sip:10.1.1.1:5080', upstreamOutboundProxy: '10.2.2.2:5060;transport=tcp' });
    const v6 = parseConfig({ upstreamUri: 'sip:[2001:db8::5]:5060', upstreamOutboundProxy: '[2001:db8::5]:5060' });

    // Assess
    expect(config.trustedUpstreamSources).toEqual(['10.1.1.1', '10.2.2.2']);
    expect(v6.trustedUpstreamSources).toEqual(['2001:db8::5']);
    expect(config.upstreamOutboundProxy).toBe('10.2.2.2:5060;transport=tcp');
  });

  it('CFG-1: advertisedUri defaults to the first listen socket, transport kept when not UDP', () => {
    // Act
    const config = parseConfig({ ...base, listen: ['tcp:198.51.100.1:5070', 'udp:198.51.100.1:5070'] });

    // Assess
    expect(config.advertisedUri).toBe('sip:198.51.100.1:5070;transport=tcp');
  });

  it('CFG-4: durations are integer seconds in JSON and milliseconds in the result', () => {
    // Act
    const config = parseConfig({ ...base, cseqDelay: 20, deregisterBound: 45, refreshMargin: 40, retryAfter: 7, inviteTimeout: 90 });

    // Assess
    expect([config.cseqDelayMs, config.deregisterBoundMs, config.refreshMarginMs, config.retryAfterMs, config.inviteTimeoutMs])
      .toEqual([20_000, 45_000, 40_000, 7_000, 90_000]);
  });

  it('CFG-4: the result is frozen, lists included', () => {
    // Act
    const config = parseConfig(base);

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
    expect(Object.isFrozen(config.trustedUpstreamSources)).toBe(true);
  });

  it('CFG-4: an unknown key fails start naming it, on one line', () => {
    // Act
    const error = configErrorOf({ ...base, outgoingExpiry: 3600 });

    // Assess
    expect(error.key).toBe('outgoingExpiry');
    expect(error.message).toContain('"outgoingExpiry"');
    expect(error.message).not.toContain('\n');
    expect(error.name).toBe('ConfigError');
  });

  it('CFG-4: deployment keys are accepted and validated', () => {
    // Act
    const config = parseConfig({ ...base, listen: ['tls:[2001:db8::1]:5061'], dataDir: '/var/lib/mr', healthPort: 9090, shardCount: 32, decisionBatchMax: 25, decisionBatchWaitMs: 5 });

    // Assess
    expect(config.listen).toEqual([{ transport: 'tls', host: '[2001:db8::1]', port: 5061 }]);
    expect([config.dataDir, config.healthPort, config.shardCount, config.decisionBatchMax, config.decisionBatchWaitMs])
      .toEqual(['/var/lib/mr', 9090, 32, 25, 5]);
  });

  it('CFG-3: upstreamAuth is parsed as credentials for our own REGISTERs', () => {
    // Act
    const config = parseConfig({ ...base, upstreamAuth: { username: 'mr', password: 's3cret', realm: 'example.net' } });

    // Assess
    expect(config.upstreamAuth).toEqual({ username: 'mr', password: 's3cret', realm: 'example.net' });
  });

  describe('CFG-2: each invalid value fails start naming the key', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['mode outside 0..2', { mode: 3 }, 'mode'],
      ['upstreamUri missing', { upstreamUri: undefined }, 'upstreamUri'],
      ['upstreamUri not a SIP URI', { upstreamUri: 'http://registrar.example.net' }, 'upstreamUri'],
      ['advertisedUri not a SIP URI', { advertisedUri: 'registrar' }, 'advertisedUri'],
      ['advertisedUri with a user part', { advertisedUri: 'sip:mr@203.0.113.10' }, 'advertisedUri'],
      ['O equal to m', { outgoingExpires: 32, refreshMargin: 32 }, 'outgoingExpires'],
      ['O below m', { outgoingExpires: 30 }, 'outgoingExpires'],
      ['min above max', { minExpires: 600, maxExpires: 60, defaultExpires: 60 }, 'minExpires'],
      ['defaultExpires 0', { defaultExpires: 0 }, 'defaultExpires'],
      ['defaultExpires above max', { defaultExpires: 7200 }, 'defaultExpires'],
      ['defaultExpires below min', { defaultExpires: 5 }, 'defaultExpires'],
      ['contactIdParam not a token', { contactIdParam: 'ct id' }, 'contactIdParam'],
      ['atEscape empty', { atEscape: '' }, 'atEscape'],
      ['atEscape not user-part-safe', { atEscape: '@' }, 'atEscape'],
      ['atEscape with a broken escape', { atEscape: '%4' }, 'atEscape'],
      ['path insertion in mode 2', { mode: 2, insertion: 'path' }, 'insertion'],
      ['negative duration', { cseqDelay: -1 }, 'cseqDelay'],
      ['fractional duration', { deregisterBound: 1.5 }, 'deregisterBound'],
      ['negative expiry', { minExpires: -10 }, 'minExpires'],
      ['boolean given as a string', { forceRegistration: 'yes' }, 'forceRegistration'],
      ['unknown tooBrief', { tooBrief: 'drop' }, 'tooBrief'],
      ['unknown pathMode', { pathMode: 'eager' }, 'pathMode'],
      ['bad outbound proxy', { upstreamOutboundProxy: 'sip:proxy@x' }, 'upstreamOutboundProxy'],
      ['bad listen entry', { listen: ['sctp:0.0.0.0:5060'] }, 'listen'],
      ['upstreamAuth without username', { upstreamAuth: { password: 'x' } }, 'upstreamAuth.username'],
      ['upstreamAuth unknown field', { upstreamAuth: { username: 'a', password: 'b', nonce: 'c' } }, 'upstreamAuth.nonce'],
    ])('%s', (_name, overrides, key) => {
      // Act
      const error = configErrorOf({ ...base, ...overrides });

      // Assess
      expect(error.key).toBe(key);
      expect(error.message).toContain(`"${key}"`);
      expect(error.message.split('\n')).toHaveLength(1);
    });
  });

  it('CFG-2: min and max of 0 disable the bounds and let any default through', () => {
    // Act
    const config = parseConfig({ ...base, minExpires: 0, maxExpires: 0, defaultExpires: 86_400 });

    // Assess
    expect([config.minExpiresSec, config.maxExpiresSec, config.defaultExpiresSec]).toEqual([0, 0, 86_400]);
  });

  it('CFG-2: a non-object configuration fails', () => {
    // Act
    const error = configErrorOf(['upstreamUri']);

    // Assess
    expect(error.key).toBe('(root)');
  });
});
