// `npm run dev`: private redis-server, the API server with --watch (restarts on change), the worker,
// and the vite dev server (hot reload) proxying /api and /socket.io to the API server.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { loadConfig } from '../server/config.ts';
import { startRedisServer } from '../server/redis/redis-server.ts';
import { redisTarget } from '../server/redis/connection.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = loadConfig();
const redis = redisTarget(config) ? null : await startRedisServer({ dir: join(config.DATA_DIR, 'redis-dev'), appendfsync: 'everysec' });
const webPort = Number(process.env.WEB_PORT ?? 5173);
const env = {
  ...process.env,
  ...(redis ? { REDIS_URL: redis.url } : {}),
  LOG_PRETTY: process.env.LOG_PRETTY ?? 'true',
  ALLOWED_ORIGINS: process.env.ALLOWED_ORIGINS ?? `http://localhost:${webPort},http://localhost:${config.PORT}`,
  API_PORT: String(config.PORT),
};
const require = createRequire(import.meta.url);
const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
const children: ChildProcess[] = [
  spawn(process.execPath, ['--watch-path=server', '--watch-path=shared', 'server/main.ts'], { cwd: root, env, stdio: 'inherit' }),
  spawn(process.execPath, ['--watch-path=server', '--watch-path=shared', 'server/worker.ts'], { cwd: root, env, stdio: 'inherit' }),
  spawn(process.execPath, [vite, 'dev', '--port', String(webPort)], { cwd: join(root, 'web'), env, stdio: 'inherit' }),
];
process.stdout.write(`[dev] web on http://localhost:${webPort}, API on http://localhost:${config.PORT}\n`);
const stop = async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  await redis?.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
