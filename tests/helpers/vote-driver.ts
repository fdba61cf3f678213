/**
 * Casts ballots at a fixed rate through the polls service, from its own process (so the load does not
 * share an event loop with the server under test). Distinct synthetic residents, options a/b/c in turn.
 * Env: the server's config (REDIS_URL, REDIS_PREFIX, APP_SECRET, …). Args: pollId rate durationMs firstUserId.
 * Prints one JSON line: {"accepted":n,"rejected":n,"elapsedMs":n}.
 */
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createContext } from '../../server/context.ts';
import { syntheticResident } from './live.ts';

const [pollId, rate, duration, first] = process.argv.slice(2).map(Number);
const ctx = createContext(loadConfig(), createLogger({ name: 'vote-driver', level: 'warn' }), { processName: 'vote-driver' });
await ctx.redis.ping();
process.stdout.write('ready\n');
const started = performance.now();
let sent = 0;
let accepted = 0;
let rejected = 0;
const inflight = new Set<Promise<unknown>>();
const total = Math.floor((duration / 1000) * rate);
while (sent < total) {
  const due = Math.min(Math.floor(((performance.now() - started) / 1000) * rate), total);
  while (sent < due) {
    const user = syntheticResident(first + sent);
    const opt = ['a', 'b', 'c'][sent % 3];
    sent++;
    const p = ctx.ballots.cast(pollId, user, { answers: { q1: [opt] } }).then(
      () => accepted++,
      () => rejected++,
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await new Promise((r) => setTimeout(r, 5));
}
await Promise.all(inflight);
const elapsedMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ accepted, rejected, elapsedMs })}\n`);
await ctx.close();
