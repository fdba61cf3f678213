import { describe, it, expect } from 'vitest';
import { loadConfig, ConfigError } from '../../server/config.ts';
import { redisTarget } from '../../server/redis/connection.ts';

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

  it('when Redis Sentinel is configured, then the sentinels are parsed and conflicting or unsafe settings are refused with one line', () => {
    const c = loadConfig({ REDIS_SENTINELS: 's1:26379, s2:26380', REDIS_SENTINEL_NAME: 'acmaster', REDIS_WAIT_REPLICAS: '1' });
    expect(c.REDIS_SENTINELS).toEqual(['s1:26379', 's2:26380']);
    expect(c.REDIS_WAIT_REPLICAS).toBe(1);
    expect(redisTarget(c)).toEqual({ name: 'acmaster', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }] });
    expect(redisTarget(loadConfig({ REDIS_URL: 'redis://h:1' }))).toBe('redis://h:1');
    expect(() => loadConfig({ REDIS_SENTINELS: 's1' })).toThrow(/^invalid configuration: REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_SENTINELS: 's1:1', REDIS_URL: 'redis://h:1' })).toThrow(/either REDIS_URL or REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '600', REDIS_COMMAND_TIMEOUT_MS: '500' })).toThrow(/REDIS_WAIT_TIMEOUT_MS/);
    expect(() => loadConfig({ REDIS_WAIT_REPLICAS: '-1' })).toThrow(/REDIS_WAIT_REPLICAS/);
  });
});
