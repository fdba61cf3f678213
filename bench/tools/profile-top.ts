// Summarise a V8 .cpuprofile (node --cpu-prof): top functions by self time, by package/file, and by
// inclusive (total) time. Percentages are of the busy time (idle left out), so a profile taken over a
// whole bench run still shows where the vote path spends its CPU.
// Usage: node bench/tools/profile-top.ts <file.cpuprofile> [topN] [--from=s] [--to=s]
//   --from/--to: only samples between these seconds after the profile started
import { readFileSync } from 'node:fs';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
const args = process.argv.slice(2);
const flag = (k: string) => args.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const [file, topArg] = args.filter((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: node bench/tools/profile-top.ts <file.cpuprofile> [topN] [--from=s] [--to=s]\n');
  process.exit(1);
}
process.stdout.on('error', () => process.exit(0)); // piped into head
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(topArg ?? 30);
const from = Number(flag('from') ?? 0) * 1e6;
const to = Number(flag('to') ?? Infinity) * 1e6;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
let t = 0;
prof.samples.forEach((id, i) => {
  t += prof.timeDeltas[i] ?? 0;
  if (t < from || t > to) return;
  self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
});
const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
const all = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self].filter(([id]) => isIdle(id)).reduce((a, [, v]) => a + v, 0);
const busy = all - idle;

const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/node_modules\//, 'nm:').replace(/^file:\/\/.*?\/(server|shared)\//, '$1/');
  return { url, fn: `${n.callFrame.functionName || '(anon)'}  ${url}:${n.callFrame.lineNumber + 1}` };
};
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, v] of self) {
  if (isIdle(id)) continue;
  const n = byId.get(id)!;
  const { url, fn } = label(n);
  byFn.set(fn, (byFn.get(fn) ?? 0) + v);
  const pkg = url.startsWith('nm:') ? url.slice(3).split('/').slice(0, url.slice(3).startsWith('@') ? 2 : 1).join('/') : url.split(':')[0] || n.callFrame.functionName;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + v);
  // inclusive: every distinct frame on the stack of this sample
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = label(byId.get(cur)!).fn;
    if (seen.has(f)) continue;
    seen.add(f);
    inclusive.set(f, (inclusive.get(f) ?? 0) + v);
  }
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}\n`);
};
process.stdout.write(`sampled ${(all / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / all).toFixed(0)}%); percentages are of the busy time\n`);
show('by package / file (self time)', byFile);
show('by function (self time)', byFn);
show('by function (inclusive time)', inclusive);
