// Builds the SvelteKit app into web/build when it is missing or older than its sources.
// `--force` always builds. Used by `npm start`, `npm run build` and `npm run test:e2e`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const stamp = join(web, 'build', '.built-at');

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(path)) {
    if (e === 'node_modules' || e.startsWith('.svelte-kit') || e === 'build') continue;
    max = Math.max(max, newest(join(path, e)));
  }
  return max;
}

export function webBuildIsStale(): boolean {
  if (!existsSync(stamp) || !existsSync(join(web, 'build', 'handler.js'))) return true;
  const built = statSync(stamp).mtimeMs;
  const sources = [join(web, 'src'), join(web, 'static'), join(root, 'shared'), join(web, 'svelte.config.js'), join(web, 'vite.config.ts'), join(root, 'package-lock.json')];
  return sources.some((s) => newest(s) > built);
}

export function buildWeb(opts: { force?: boolean; quiet?: boolean } = {}): void {
  if (!opts.force && !webBuildIsStale()) {
    if (!opts.quiet) process.stdout.write('web app is up to date (web/build)\n');
    return;
  }
  process.stdout.write('building the web app (vite build in web/)…\n');
  const require = createRequire(import.meta.url);
  const viteBin = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('web build failed\n');
    process.exit(r.status ?? 1);
  }
  writeFileSync(stamp, new Date().toISOString());
  process.stdout.write(`web app built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (import.meta.main) buildWeb({ force: process.argv.includes('--force') });
