import { describe, it, expect } from 'vitest';
import { loadConfig, ConfigError } from '../../server/config.ts';

describe('config', () => {
  it('when env is empty, then defaults are used and the object is frozen', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.REDIS_APPENDFSYNC).toBe('always');
    expect(c.ALLOWED_ORIGINS).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('when a value is bad, then one ConfigError line names the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^invalid configuration: PORT: /);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ TICK_MS: '1' })).toThrow(/TICK_MS/);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'not an origin' })).toThrow(/ALLOWED_ORIGINS/);
    expect(() => loadConfig({ REDIS_PREFIX: 'a{b}' })).toThrow(/REDIS_PREFIX/);
  });

  it('when production has no APP_SECRET, then start-up is refused', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/APP_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', APP_SECRET: 'x'.repeat(32) }).APP_SECRET).toBe('x'.repeat(32));
  });

  it('when the webhook sender has no URL, then start-up is refused', () => {
    expect(() => loadConfig({ OTP_SENDER: 'webhook' })).toThrow(/OTP_WEBHOOK_URL/);
  });

  it('when lists are given, then they are split and trimmed', () => {
    const c = loadConfig({ ADMIN_PHONES: '+79990000001, +79990000002', ALLOWED_ORIGINS: 'https://ag.mos.ru' });
    expect(c.ADMIN_PHONES).toEqual(['+79990000001', '+79990000002']);
    expect(c.ALLOWED_ORIGINS).toEqual(['https://ag.mos.ru']);
  });
});
