import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../server/config.ts';
import { ROOT } from '../helpers/processes.ts';

// docker-compose.yml cannot be run here (no Docker engine), so its shape is checked instead:
// what the multi-process topology promises (DESIGN.md §7) is what the file says.
type Service = {
  image?: string;
  profiles?: string[];
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
};

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};

/**
 * `${VAR:-default}` (unset or empty), `${VAR-default}` (unset only), `${VAR:?msg}` → the value compose
 * would use with VAR unset (or the given one).
 */
const interpolate = (v: string, env: Record<string, string>) =>
  v.replace(/\$\{(\w+)(?:(:?)([-?])([^}]*))?\}/g, (_, name: string, colon?: string, op?: string, rest?: string) => {
    const value = env[name];
    const useDefault = value === undefined || (colon === ':' && value === '');
    return useDefault ? (op === '-' ? (rest ?? '') : '') : value;
  });

describe('docker-compose.yml', () => {
  const inProfile = (profile: string | null) =>
    Object.keys(compose.services).filter((k) => (profile === null ? !compose.services[k]!.profiles : compose.services[k]!.profiles?.includes(profile))).sort();

  it('when parsed, then it is valid YAML with postgres, redis, server and worker services by default', () => {
    expect(inProfile(null)).toEqual(['postgres', 'redis', 'server', 'worker']);
  });

  it('when the sentinel profile is read, then a replica of redis (same durability) and three Sentinels with quorum 2 monitor it', () => {
    expect(inProfile('sentinel')).toEqual(['redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3']);
    const replica = compose.services['redis-replica']!.command!.join(' ');
    expect(replica).toMatch(/--replicaof redis 6379/);
    expect(replica).toMatch(/--appendfsync always/);
    expect(replica).toMatch(/--maxmemory-policy noeviction/);
    for (const name of ['sentinel-1', 'sentinel-2', 'sentinel-3']) {
      const cmd = compose.services[name]!.command!.join(' ');
      expect(cmd).toMatch(/sentinel monitor acmaster redis 6379 2/);
      expect(cmd).toMatch(/redis-server \/tmp\/sentinel.conf --sentinel/);
    }
  });

  it('when the app environment is given as the file header says for the sentinel profile, then the config follows the Sentinels', () => {
    const given = { APP_SECRET: 's'.repeat(32), REDIS_URL: '', REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379', REDIS_WAIT_REPLICAS: '1' };
    const env = Object.fromEntries(Object.entries(compose.services.server!.environment!).map(([k, v]) => [k, interpolate(String(v), given)]));
    const config = loadConfig(env);
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.REDIS_SENTINELS).toEqual(given.REDIS_SENTINELS.split(','));
    expect(config.REDIS_SENTINEL_NAME).toBe('acmaster');
    expect(config.REDIS_WAIT_REPLICAS).toBe(1);
  });

  it('when postgres is read, then it keeps its data on a volume, has a health check, and the app reaches it by DATABASE_URL after it is healthy', () => {
    const pg = compose.services.postgres!;
    expect(pg.image).toMatch(/^postgres:1[5-9]/);
    expect(Object.keys(compose.volumes ?? {})).toContain('postgres-data');
    expect(pg.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    for (const s of [compose.services.server!, compose.services.worker!]) {
      expect(s.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(s.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\/active_citizen$/);
    }
  });

  it('when redis is read, then it runs with AOF always and noeviction, keeps its data on a volume and has a health check', () => {
    const redis = compose.services.redis!;
    const cmd = redis.command!.join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--appendfsync always/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(Object.keys(compose.volumes ?? {})).toContain('redis-data');
    expect(redis.healthcheck?.test.join(' ')).toMatch(/ping/);
  });

  it('when the app services are read, then two server replicas and one worker run the real entry points after Redis is healthy', () => {
    const { server, worker } = compose.services;
    expect(server!.deploy?.replicas).toBe(2);
    expect(worker!.deploy?.replicas ?? 1).toBe(1);
    expect(server!.command).toEqual(['node', 'server/main.ts']);
    expect(worker!.command).toEqual(['node', 'server/worker.ts']);
    for (const s of [server!, worker!]) {
      expect(s.depends_on?.redis?.condition).toBe('service_healthy');
      expect(interpolate(s.environment!.REDIS_URL!, {})).toBe('redis://redis:6379');
      // the worker writes the published ballot ledgers, every server replica serves them: one shared volume
      expect(s.volumes).toContain(`open-data:${s.environment?.DATA_DIR}/open-data`);
    }
    for (const file of ['server/main.ts', 'server/worker.ts', 'Dockerfile']) expect(existsSync(join(ROOT, file)), file).toBe(true);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:24/m);
  });

  it('when the app environment is given to the config loader (APP_SECRET set), then it is accepted as production config', () => {
    const env = Object.fromEntries(
      Object.entries(compose.services.server!.environment!).map(([k, v]) => [k, interpolate(String(v), { APP_SECRET: 's'.repeat(32) })]),
    );
    const config = loadConfig(env);
    expect(config.NODE_ENV).toBe('production');
    expect(config.REDIS_URL).toBe('redis://redis:6379');
    expect(config.DATABASE_URL).toBe('postgres://active_citizen:active_citizen@postgres:5432/active_citizen');
  });
});
