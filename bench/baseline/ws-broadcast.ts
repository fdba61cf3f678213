// Baseline: a plain `ws` server that broadcasts the same TallyFrame payload the platform sends, once per
// tick, to every client — the floor for the platform's live fan-out. Simulated "votes accepted" (the
// probe option's count going up) at the same probe interval the platform phase uses; each accepted time
// goes to the parent ({type:'accept', k, t}) so watchers measure accepted → received exactly as there.
// argv: <tickMs> <probeIntervalMs> <frame template JSON>
import { WebSocketServer } from 'ws';
import { performance } from 'node:perf_hooks';

const [tickMs, probeMs, template] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const frame = JSON.parse(template) as { results: { version: number; ballots: number; questions: { id: string; options: { id: string; count: number }[] }[] } };
const probe = frame.results.questions[0].options.find((o) => o.id === 'probe')!;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
const nowMs = () => performance.timeOrigin + performance.now();
let dirty = false;
let probing: NodeJS.Timeout | null = null;

wss.on('listening', () => {
  const addr = wss.address();
  process.send!({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
});
wss.on('connection', (ws) => ws.on('error', () => {}));

setInterval(() => {
  if (!dirty) return;
  dirty = false;
  frame.results.version++;
  const data = JSON.stringify(frame);
  for (const c of wss.clients) c.send(data);
}, tickMs);

process.on('message', (m: any) => {
  if (m?.type === 'memory') process.send!({ type: 'memory', ...process.memoryUsage() });
  if (m?.type === 'probe-start' && !probing) {
    probing = setInterval(() => {
      probe.count++;
      frame.results.ballots++;
      dirty = true;
      process.send!({ type: 'accept', k: probe.count, t: nowMs() });
    }, probeMs);
  }
  if (m?.type === 'probe-stop' && probing) {
    clearInterval(probing);
    probing = null;
    process.send!({ type: 'probe-stopped', count: probe.count });
  }
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
