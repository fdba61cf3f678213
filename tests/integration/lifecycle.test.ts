import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawnScript, isAlive, until } from '../helpers/processes.ts';
import { freePort } from '../../server/redis/redis-server.ts';

const baseEnv = () => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LOG_LEVEL: 'info',
  NODE_ENV: 'test',
});

describe('npm start launcher (scripts/start.ts)', () => {
  it('when started without REDIS_URL and DATABASE_URL, then it runs a private redis-server and postgres, becomes ready (Our City migrated), and SIGTERM stops everything cleanly', async () => {
    // as on a fresh clone: a checkout folder anyone may traverse, and no DATA_DIR yet (the private Redis
    // creates it 0700; as root, the private postgres runs as `postgres` and must still reach DATA_DIR/postgres)
    const checkout = mkdtempSync(join(tmpdir(), 'ac-start-'));
    chmodSync(checkout, 0o755);
    const dataDir = join(checkout, 'data');
    const port = await freePort();
    const p = spawnScript('scripts/start.ts', ['--no-build'], { ...baseEnv(), PORT: String(port), DATA_DIR: dataDir });
    try {
      const m = await p.waitFor(/private redis-server pid (\d+) on (redis:\/\/\S+)/);
      const redisPid = Number(m[1]);
      expect(isAlive(redisPid)).toBe(true);
      await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30_000);
      expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);
      const pgPid = Number((await p.waitFor(/private postgres pid (\d+)/))[1]);
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      const cats = await fetch(`http://127.0.0.1:${port}/api/city/categories`);
      expect(cats.status).toBe(200);
      expect((((await cats.json()) as { items: unknown[] }).items.length)).toBeGreaterThanOrEqual(12);

      p.child.kill('SIGTERM');
      const { code } = await p.exited;
      expect(code).toBe(0);
      expect(p.output()).toMatch(/server stopped/);
      expect(p.output()).toMatch(/worker stopped/);
      expect(p.output()).toMatch(/private redis-server stopped/);
      expect(p.output()).toMatch(/private postgres stopped/);
      expect(isAlive(redisPid)).toBe(false);
      expect(isAlive(pgPid)).toBe(false);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      rmSync(checkout, { recursive: true, force: true });
    }
  });

  it('when there is no redis-server on PATH and no REDIS_URL, then one clear line and a non-zero exit', async () => {
    const p = spawnScript('scripts/start.ts', ['--no-build'], { ...baseEnv(), PATH: dirname(process.execPath), PORT: '0' });
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    expect(p.output().trim()).toMatch(/redis-server not found on PATH and REDIS_URL is not set: install Redis/);
    expect(p.output().trim().split('\n')).toHaveLength(1);
  });

  it('when the environment is invalid, then one line names the variable and exit is non-zero', async () => {
    const p = spawnScript('scripts/start.ts', ['--no-build'], { ...baseEnv(), PORT: 'abc' });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.output().trim()).toMatch(/^\[start\] invalid configuration: PORT: /);
  });

  it.each([
    { script: 'server/main.ts', name: 'server', case: 'a bad REDIS_URL', env: { REDIS_URL: 'nope://x' }, line: /^active-citizen server: invalid configuration: REDIS_URL: must start with redis:\/\// },
    { script: 'server/worker.ts', name: 'worker', case: 'a bad REDIS_URL', env: { REDIS_URL: 'nope://x' }, line: /^active-citizen worker: invalid configuration: REDIS_URL: must start with redis:\/\// },
    { script: 'server/main.ts', name: 'server', case: 'no Redis named', env: { REDIS_URL: undefined, REDIS_SENTINELS: undefined }, line: /^active-citizen server: neither REDIS_URL nor REDIS_SENTINELS is set \(use `npm start`/ },
    { script: 'server/worker.ts', name: 'worker', case: 'no Redis named', env: { REDIS_URL: undefined, REDIS_SENTINELS: undefined }, line: /^active-citizen worker: neither REDIS_URL nor REDIS_SENTINELS is set$/ },
  ])('when the $name process is run directly with $case, then it refuses to start with one line and exit 1', async ({ script, env, line }) => {
    const p = spawnScript(script, [], { ...baseEnv(), ...env });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.output().trim()).toMatch(line);
    expect(p.output().trim().split('\n'), 'one line, no stack trace').toHaveLength(1);
  });
});
