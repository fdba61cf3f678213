// Prints the gzipped JavaScript a page of the built web app loads on first visit and fails when the poll
// page is over budget. Reads the client build manifest: the route's page node, its layouts, SvelteKit's
// entry chunks and everything they import statically (dynamic imports of other routes are not loaded).
// Usage: node scripts/bundle-size.ts [--route /polls/[id]] [--budget-kb 64]   (run by `npm run build`)
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'web', '.svelte-kit', 'output', 'client');
const manifestFile = join(out, '.vite', 'manifest.json');
const appFile = join(root, 'web', '.svelte-kit', 'generated', 'client-optimized', 'app.js');

type Chunk = { file: string; imports?: string[]; dynamicImports?: string[]; isEntry?: boolean; src?: string };

export function pageScripts(route: string): { file: string; gzip: number }[] {
  if (!existsSync(manifestFile) || !existsSync(appFile)) throw new Error('no client build: run `npm run build` first');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, Chunk>;
  const app = readFileSync(appFile, 'utf8');
  const esc = route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = app.match(new RegExp(`"${esc}":\\s*\\[([^\\]]*)\\]`));
  if (!m) throw new Error(`route ${route} not found in the client dictionary`);
  // [page, ...layouts] (~ marks a server load); the root layout (node 0) is always there
  const nodes = new Set([0, ...m[1].split(',').map((s) => s.trim()).filter((s) => /^~?\d+$/.test(s)).map((s) => Number(s.replace('~', '')))]);
  const keys = [
    ...Object.keys(manifest).filter((k) => manifest[k].isEntry && !k.includes('/nodes/')),
    ...[...nodes].map((n) => `.svelte-kit/generated/client-optimized/nodes/${n}.js`),
    // the root layout imports the page language's dictionary on demand: count the default (Russian)
    ...Object.keys(manifest).filter((k) => k.endsWith('src/lib/i18n/ru.ts')),
  ];
  const seen = new Set<string>();
  const visit = (k: string) => {
    if (seen.has(k) || !manifest[k]) return;
    seen.add(k);
    for (const i of manifest[k].imports ?? []) visit(i);
  };
  keys.forEach(visit);
  return [...seen]
    .map((k) => manifest[k].file)
    .filter((f) => f.endsWith('.js'))
    .map((file) => ({ file, gzip: gzipSync(readFileSync(join(out, file)), { level: 9 }).length }));
}

if (import.meta.main) {
  const arg = (name: string, d: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : d;
  };
  const budget = Number(arg('--budget-kb', '64')) * 1024;
  const routes = [arg('--route', '/polls/[id]'), '/', '/live/[id]', '/moderate/[id]', '/city/reports/[id]', '/city/report/new', '/city/board'];
  let failed = false;
  for (const [i, route] of routes.entries()) {
    let files: { file: string; gzip: number }[];
    try {
      files = pageScripts(route);
    } catch (err) {
      if (i === 0) {
        process.stderr.write(`bundle-size: ${(err as Error).message}\n`);
        process.exit(1);
      }
      continue;
    }
    const total = files.reduce((s, f) => s + f.gzip, 0);
    const over = i === 0 && total > budget;
    failed ||= over;
    process.stdout.write(
      `bundle-size: ${route} loads ${files.length} JS files, ${(total / 1024).toFixed(1)} KB gzipped` +
        (i === 0 ? ` (budget ${(budget / 1024).toFixed(0)} KB: ${over ? 'OVER' : 'ok'})` : '') + '\n',
    );
  }
  if (failed) process.exit(1);
}
