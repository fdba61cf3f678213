import { describe, it, expect } from 'vitest';
import { Registry } from 'prom-client';
import { createBroadcaster } from '../../server/realtime/broadcaster.ts';
import { createLogger } from '../../server/logger.ts';
import type { IoServer } from '../../server/realtime/io.ts';
import type { PollResults } from '../../shared/polls.ts';

/** Just what the broadcaster touches of Socket.IO: room sizes and a local emit, here one that takes `emitMs`. */
function slowIo(emitMs: number, starts: number[]) {
  const rooms = new Map([['poll:1', new Set(['a'])], ['poll:1:tally', new Set(['a'])]]);
  const emit = () => {
    starts.push(performance.now());
    const until = performance.now() + emitMs;
    while (performance.now() < until); // a long synchronous fan-out, as to tens of thousands of sockets
  };
  return { of: () => ({ adapter: { rooms } }), local: { to: () => ({ emit, except: () => ({ emit }) }) } } as unknown as IoServer;
}

async function ticksOver(emitMs: number, tickMs: number, ms: number) {
  const starts: number[] = [];
  let v = 0;
  const results = (pollId: number) => Promise.resolve({ pollId, version: v, ballots: v, questions: [], breakdown: { district: [], ageBand: [], minGroup: 1 } } as unknown as PollResults);
  const b = createBroadcaster({ io: slowIo(emitMs, starts), source: { versions: async () => [++v], results }, tickMs, logger: createLogger({ name: 't', level: 'silent' }), registry: new Registry() });
  b.track(1, 0);
  b.start();
  await new Promise((r) => setTimeout(r, ms));
  await b.stop();
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  return { gaps, stats: b.stats() };
}

describe('live results broadcaster pacing', () => {
  it('when emits are short, then a frame goes out every tick', async () => {
    const { gaps, stats } = await ticksOver(1, 40, 450);
    expect(gaps.length).toBeGreaterThanOrEqual(6);
    expect([...gaps].sort((a, b) => a - b)[gaps.length >> 1]).toBeLessThan(80); // median: one stall of a busy machine aside
    expect(stats.paced).toBe(0);
  });

  it('when a tick spends longer emitting than the tick, then the next tick waits as long again: emitting keeps at most half the event loop', async () => {
    const { gaps, stats } = await ticksOver(60, 20, 800);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    // 60 ms emitting, then at least 60 ms free: ticks at least 120 ms apart (the tick alone would be 20)
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(115);
    expect(stats.paced).toBeGreaterThan(0);
  });
});
