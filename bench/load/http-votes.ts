// Load process: real ballots over HTTP keep-alive with autocannon, one distinct voter (session cookie)
// per request. Runs in its own process so it never shares a CPU queue with the server under test.
// Protocol (IPC): parent sends {type:'run', ...HttpRunSpec}; child answers {type:'result', ...HttpRunResult}.
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

export type HttpRunSpec = {
  url: string;
  path: string;
  connections: number;
  durationSec: number;
  /** votes/s cap over all connections (streaming mode); none = as fast as the server answers. */
  overallRate?: number;
  origin: string;
  voters: { id: number; cookie: string }[];
  bodies: string[];
  /** Reuse the voters round-robin instead of stopping when they run out (baselines that ignore the cookie). */
  cycle?: boolean;
  /** Send back [userId, acceptedAtMs] of every 201 (worker-lag phase). */
  recordAccepts?: boolean;
  label: string;
};

export type HttpRunResult = {
  label: string;
  durationSec: number;
  sent: number;
  ok: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** 2xx per second over the run. */
  okPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  votersExhausted: boolean;
  /** CPU ms the load process itself used over the run (user + system). */
  loadCpuMs: number;
  accepts?: number[];
};

const nowMs = () => performance.timeOrigin + performance.now();

function run(spec: HttpRunSpec): Promise<HttpRunResult> {
  const statuses: Record<string, number> = {};
  const accepts: number[] = [];
  let next = 0;
  let exhausted = false;
  const headers = { 'content-type': 'application/json', origin: spec.origin, accept: 'application/json' };
  let instance: autocannon.Instance;
  const cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSec,
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: spec.path,
            setupRequest: (req: any, context: any) => {
              let i = next++;
              if (spec.cycle) i %= spec.voters.length;
              else if (i >= spec.voters.length) {
                if (!exhausted) {
                  exhausted = true;
                  setImmediate(() => instance.stop());
                }
                i = spec.voters.length - 1; // a duplicate (409) until the stop lands; counted apart
              }
              const v = spec.voters[i];
              context.uid = v.id;
              return { ...req, headers: { ...headers, cookie: v.cookie }, body: spec.bodies[i % spec.bodies.length] };
            },
            onResponse: (status: number, _body: string, context: any) => {
              statuses[status] = (statuses[status] ?? 0) + 1;
              if (spec.recordAccepts && status >= 200 && status < 300) accepts.push(context.uid, nowMs());
            },
          },
        ],
      } as autocannon.Options,
      (err, r) => {
        if (err) return reject(err);
        const ok = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((a, [, n]) => a + n, 0);
        const sent = Object.values(statuses).reduce((a, n) => a + n, 0);
        resolve({
          label: spec.label,
          durationSec: r.duration,
          sent,
          ok,
          statuses,
          errors: r.errors,
          timeouts: r.timeouts,
          okPerSec: ok / r.duration,
          latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
          votersExhausted: exhausted,
          loadCpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu0)),
          ...(spec.recordAccepts ? { accepts } : {}),
        });
      },
    );
  });
}

process.on('message', (m: any) => {
  if (m?.type !== 'run') return;
  run(m as HttpRunSpec).then(
    (r) => process.send!({ type: 'result', ...r }, () => process.exit(0)),
    (err) => process.send!({ type: 'error', message: String(err?.stack ?? err) }, () => process.exit(1)),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
