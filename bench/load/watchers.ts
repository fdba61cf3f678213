// Load process: N live-results watchers on one poll, either Socket.IO clients of the real platform
// (websocket transport, each signed in with its own session cookie, `poll:watch`) or plain `ws` clients
// of the baseline broadcaster. The Socket.IO watchers speak the protocol over `ws` themselves by default
// (Engine.IO 4 / Socket.IO 5: open, connect, ping/pong, one event with an ack, events): per frame they do
// what a `ws` watcher does (one JSON.parse), so on a machine whose cores the server shares with the load
// processes both sides of the comparison pay the same client cost; `client: 'socket.io-client'` uses the
// real client library instead. Measures probe-vote-accepted → frame-received:
// the orchestrator relays the accepted time of probe k ({type:'accept', k, t}); a frame whose probe
// option count reaches k completes probe k for that watcher.
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { performance } from 'node:perf_hooks';

export type WatchSpec = {
  mode: 'socketio' | 'ws';
  /** Socket.IO watchers: the protocol over `ws` (default) or socket.io-client. */
  client?: 'lean' | 'socket.io-client';
  url: string;
  pollId: number;
  /** One entry per watcher (cookie for the platform; empty for ws). */
  cookies: string[];
  localAddresses: string[];
  concurrency: number;
  probeQuestion: string;
  probeOption: string;
};

const nowMs = () => performance.timeOrigin + performance.now();
let spec: WatchSpec;
const sockets: (Socket | WebSocket)[] = [];
let lastCount: Int32Array;
const acceptAt = new Map<number, number>();
let measuring = false;
let frames = 0;
let measureStart = 0;
let lat = new Float64Array(1 << 16);
let latN = 0;
const pending: number[] = []; // k, receivedAt pairs waiting for their accept time
let badFrames = 0;
/** Watchers whose connection closed after they started watching (server gone, ping timeout). */
let closedAfterWatching = 0;

function pushLat(v: number) {
  if (latN === lat.length) {
    const n = new Float64Array(lat.length * 2);
    n.set(lat);
    lat = n;
  }
  lat[latN++] = v;
}

function probeCount(frame: any): number {
  const q = frame?.results?.questions?.find((x: any) => x.id === spec.probeQuestion);
  const o = q?.options?.find((x: any) => x.id === spec.probeOption);
  return typeof o?.count === 'number' ? o.count : -1;
}

function onFrame(i: number, frame: any) {
  const t = nowMs();
  const c = probeCount(frame);
  if (c < 0) {
    badFrames++;
    return;
  }
  const prev = lastCount[i];
  lastCount[i] = Math.max(prev, c);
  if (!measuring) return;
  frames++;
  if (prev < 0) return; // first frame of this watcher: no baseline
  for (let k = prev + 1; k <= c; k++) {
    const a = acceptAt.get(k);
    if (a !== undefined) pushLat(Math.max(0, t - a));
    else pending.push(k, t);
  }
}

async function connectOne(i: number): Promise<Socket | WebSocket> {
  const localAddress = spec.localAddresses[i % spec.localAddresses.length];
  if (spec.mode === 'ws') {
    const ws = new WebSocket(spec.url, { localAddress, perMessageDeflate: false });
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    ws.on('message', (data) => onFrame(i, JSON.parse(data.toString())));
    ws.on('error', () => {});
    ws.on('close', () => closedAfterWatching++);
    return ws;
  }
  if (spec.client !== 'socket.io-client') return connectLean(i, localAddress);
  const s = ioClient(spec.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 60_000,
    extraHeaders: spec.cookies[i] ? { cookie: spec.cookies[i] } : {},
    localAddress,
  } as any);
  await new Promise<void>((res, rej) => {
    s.once('connect', () => res());
    s.once('connect_error', (e) => rej(e));
  });
  s.on('poll:tally' as any, (frame: any) => onFrame(i, frame));
  const ack: any = await s.timeout(60_000).emitWithAck('poll:watch' as any, { pollId: spec.pollId });
  if (!ack?.ok) throw new Error(`poll:watch refused: ${JSON.stringify(ack?.error ?? ack)}`);
  if (!ack.data?.canSeeResults) throw new Error('poll:watch: this watcher may not see results');
  if (ack.data.snapshot) lastCount[i] = Math.max(lastCount[i], probeCount(ack.data.snapshot));
  return s;
}

/**
 * A Socket.IO watcher over a bare `ws` connection: Engine.IO v4 packets are one character of type then
 * the data ('0' open, '2' ping, '3' pong, '4' message); Socket.IO v5 messages are '0' connect, '2' event,
 * '3' ack, then an optional ack id, then JSON. The server does exactly what it does for socket.io-client.
 */
function connectLean(i: number, localAddress: string): Promise<WebSocket> {
  const url = `${spec.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, headers: spec.cookies[i] ? { cookie: spec.cookies[i] } : {} });
  return new Promise<WebSocket>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('connect timeout')), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    ws.on('error', fail);
    ws.on('close', () => fail(new Error('closed before watching')));
    ws.on('message', (data) => {
      const m = data.toString();
      if (m === '2') return ws.send('3'); // Engine.IO ping -> pong
      if (m[0] === '0') return ws.send('40'); // Engine.IO open -> Socket.IO connect to "/"
      if (m.startsWith('44')) return fail(new Error(`connect refused: ${m.slice(2)}`));
      if (m.startsWith('40')) return ws.send(`420${JSON.stringify(['poll:watch', { pollId: spec.pollId }])}`);
      if (m.startsWith('42')) {
        const [event, payload] = JSON.parse(m.slice(2));
        if (event === 'poll:tally') onFrame(i, payload);
        return;
      }
      if (m.startsWith('430')) {
        const [ack] = JSON.parse(m.slice(3));
        if (!ack?.ok) return fail(new Error(`poll:watch refused: ${JSON.stringify(ack?.error ?? ack)}`));
        if (!ack.data?.canSeeResults) return fail(new Error('poll:watch: this watcher may not see results'));
        if (ack.data.snapshot) lastCount[i] = Math.max(lastCount[i], probeCount(ack.data.snapshot));
        clearTimeout(timer);
        ws.removeAllListeners('error');
        ws.removeAllListeners('close');
        ws.on('error', () => {});
        ws.on('close', () => closedAfterWatching++);
        resolve(ws);
      }
    });
  });
}

async function connectAll() {
  const n = spec.cookies.length;
  lastCount = new Int32Array(n).fill(-1);
  let next = 0;
  let failed = 0;
  let firstError = '';
  const t0 = Date.now();
  let lastReport = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      try {
        sockets[i] = await connectOne(i);
      } catch (err) {
        failed++;
        firstError ||= (err as Error).message;
      }
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        process.send!({ type: 'progress', connected: sockets.filter(Boolean).length, failed });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, n) }, worker));
  process.send!({ type: 'connected', connected: sockets.filter(Boolean).length, failed, firstError, ms: Date.now() - t0 });
}

function result() {
  const secs = (nowMs() - measureStart) / 1000;
  for (let j = 0; j < pending.length; j += 2) {
    const a = acceptAt.get(pending[j]);
    if (a !== undefined) pushLat(Math.max(0, pending[j + 1] - a));
  }
  const sorted = lat.slice(0, latN).sort();
  const p = (q: number) => (latN ? sorted[Math.min(latN - 1, Math.ceil((q / 100) * latN) - 1)] : NaN);
  let behind = 0;
  const maxProbe = Math.max(0, ...acceptAt.keys());
  for (let i = 0; i < lastCount.length; i++) if (sockets[i] && lastCount[i] < maxProbe) behind++;
  return {
    frames,
    seconds: secs,
    framesPerSec: frames / secs,
    samples: latN,
    latencyMs: { p50: p(50), p90: p(90), p99: p(99), max: latN ? sorted[latN - 1] : NaN },
    watchersBehindLastProbe: behind,
    badFrames,
    closedAfterWatching,
  };
}

process.on('message', (m: any) => {
  switch (m?.type) {
    case 'connect':
      spec = m.spec;
      void connectAll();
      break;
    case 'accept':
      acceptAt.set(m.k, m.t);
      break;
    case 'measure-start':
      measuring = true;
      frames = 0;
      latN = 0;
      pending.length = 0;
      measureStart = nowMs();
      process.send!({ type: 'measuring' });
      break;
    case 'measure-stop':
      measuring = false;
      process.send!({ type: 'measured', ...result() });
      break;
    case 'close':
      for (const s of sockets) {
        if (!s) continue;
        if (s instanceof WebSocket) {
          s.removeAllListeners('close');
          s.terminate();
        }
        else s.disconnect();
      }
      process.send!({ type: 'closed' }, () => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
