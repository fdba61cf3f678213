import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const shared = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared');
/** Modules the web may import values from: they must never load zod at run time. */
const zodFree = [...readdirSync(join(shared, 'values')).map((f) => join(shared, 'values', f)), join(shared, 'districts.ts')];

/** Run-time imports (type-only imports and re-exports are erased by the build). */
function runtimeImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) if (!m[2]) out.push(m[3]);
  for (const m of src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push(m[1]);
  return out;
}

describe('the zod-free half of shared/', () => {
  it('when a zod-free module is loaded, then neither it nor anything it imports at run time pulls in zod', () => {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of runtimeImports(file)) {
        expect(spec.startsWith('.'), `${file} imports package "${spec}"`).toBe(true);
        walk(resolve(dirname(file), spec));
      }
    };
    zodFree.forEach(walk);
    expect(seen.size).toBeGreaterThanOrEqual(zodFree.length);
  });
});
