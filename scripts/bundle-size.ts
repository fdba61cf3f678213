// Prints the gzipped JavaScript a page of the built web app loads on first visit and fails when a page with a
// budget is over it. Reads the client build manifest: the route's page node, its layouts, SvelteKit's entry
// chunks and everything they import statically (dynamic imports of other routes are not loaded), plus the
// Russian half of each dictionary a layout loads by the page's language (the root's; Our City's strings).
// Usage: node scripts/bundle-size.ts [--route /polls/[id] --budget-kb 64]   (run by `npm run build`)
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'web', '.svelte-kit', 'output', 'client');
const manifestFile = join(out, '.vite', 'manifest.json');
const appFile = join(root, 'web', '.svelte-kit', 'generated', 'client-optimized', 'app.js');

type Chunk = { file: string; imports?: string[]; dynamicImports?: string[]; isEntry?: boolean; src?: string };

const ruOfPair = (dynamic: string[]): string | null => {
  const dicts = dynamic.filter((k) => k.includes('src/lib/i18n/'));
  const ru = dicts.find((k) => /(^|[/.])ru\.ts$/.test(k));
  const en = dicts.find((k) => /(^|[/.])en\.ts$/.test(k));
  return dicts.length === 2 && ru && en && ru.slice(0, -5) === en.slice(0, -5) ? ru : null;
};

/**
 * First-visit budgets, gzipped KB. The poll page is what every voter opens: 64. Our City's pages (residents on
 * phones first) get the same plus what every city page adds for its area — the city's strings (~3.6 KB) and
 * layout — rounded up: 70; the moderator's live dashboard the same.
 */
export const BUDGETS_KB: Record<string, number> = {
  '/polls/[id]': 64,
  ...Object.fromEntries(['/city', '/city/reports/[id]', '/city/report/new', '/city/board', '/city/moderate', '/city/org', '/city/admin', '/me/reports'].map((r) => [r, 70])),
  '/moderate/[id]': 70,
};

export function pageScripts(route: string): { file: string; gzip: number }[] {
  if (!existsSync(manifestFile) || !existsSync(appFile)) throw new Error('no client build: run `npm run build` first');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, Chunk>;
  const app = readFileSync(appFile, 'utf8');
  const esc = route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // "route": [page, [layouts], [errors]] (~ marks a server load; the error pages load only on an error)
  const m = app.match(new RegExp(`"${esc}":\\s*\\[\\s*~?(\\d+)\\s*(?:,\\s*\\[([^\\]]*)\\])?`));
  if (!m) throw new Error(`route ${route} not found in the client dictionary`);
  const layouts = (m[2] ?? '').split(',').map((x) => x.trim().replace('~', '')).filter((x) => /^\d+$/.test(x)).map(Number);
  // the root layout (node 0) and the root error page (node 1) load with every page
  const nodes = new Set([0, 1, Number(m[1]), ...layouts]);
  const keys = [
    ...Object.keys(manifest).filter((k) => manifest[k].isEntry && !k.includes('/nodes/')),
    ...[...nodes].map((n) => `.svelte-kit/generated/client-optimized/nodes/${n}.js`),
  ];
  const seen = new Set<string>();
  const visit = (k: string) => {
    if (seen.has(k) || !manifest[k]) return;
    seen.add(k);
    for (const i of manifest[k].imports ?? []) visit(i);
    // a loader that imports one dictionary of a ru/en pair by the page's language: a first visit (Russian by
    // default) downloads the Russian one. (lib/i18n/areas.ts picks among several areas by its caller: not
    // counted, at most ~2 KB an area on the staff pages.)
    const ru = ruOfPair(manifest[k].dynamicImports ?? []);
    if (ru) visit(ru);
  };
  keys.forEach(visit);
  return [...seen]
    .map((k) => manifest[k].file)
    .filter((f) => f.endsWith('.js'))
    .map((file) => ({ file, gzip: gzipSync(readFileSync(join(out, file)), { level: 9 }).length }));
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const one = arg('--route');
  const budgets: Record<string, number | null> = one ? { [one]: arg('--budget-kb') ? Number(arg('--budget-kb')) : null } : { ...BUDGETS_KB, '/': null, '/live/[id]': null };
  let failed = false;
  for (const [route, kb] of Object.entries(budgets)) {
    let files: { file: string; gzip: number }[];
    try {
      files = pageScripts(route);
    } catch (err) {
      process.stderr.write(`bundle-size: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const total = files.reduce((s, f) => s + f.gzip, 0);
    const over = kb !== null && total > kb * 1024;
    failed ||= over;
    process.stdout.write(
      `bundle-size: ${route} loads ${files.length} JS files, ${(total / 1024).toFixed(1)} KB gzipped` +
        (kb !== null ? ` (budget ${kb} KB: ${over ? 'OVER' : 'ok'})` : '') + '\n',
    );
  }
  if (failed) process.exit(1);
}
