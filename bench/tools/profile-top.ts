// Summarise a V8 .cpuprofile (node --cpu-prof): top functions by self time, and by package/file.
// Usage: node bench/tools/profile-top.ts <file.cpuprofile> [topN]
import { readFileSync } from 'node:fs';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/tools/profile-top.ts <file.cpuprofile> [topN]\n');
  process.exit(1);
}
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(topArg ?? 30);
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  if (!t) continue;
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/node_modules\//, 'nm:').replace(/^file:\/\/.*?\/(server|shared)\//, '$1/');
  const fn = `${n.callFrame.functionName || '(anon)'}  ${url}:${n.callFrame.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  const pkg = url.startsWith('nm:') ? url.slice(3).split('/').slice(0, url.slice(3).startsWith('@') ? 2 : 1).join('/') : url.split(':')[0] || n.callFrame.functionName;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`);
};
process.stdout.write(`total sampled ${(total / 1e6).toFixed(2)} s\n`);
show('by package / file (self time)', byFile);
show('by function (self time)', byFn);
