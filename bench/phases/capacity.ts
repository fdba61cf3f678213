import type { Row } from '../lib/report.ts';
import { fmt } from '../lib/report.ts';

const RATES = [10_000, 50_000, 100_000];
/** A core is planned at this share of its time (headroom for bursts, GC, the OS). */
const UTILISATION = 0.7;

/**
 * Cores and Redis masters for 10k/50k/100k ballots/s, on paper, from the CPU per accepted ballot measured
 * in this run: Node cores = rate × (server + worker µs) / utilisation; Redis masters = rate × redis µs /
 * utilisation (one busy core each: Redis runs commands on one thread). Assumes the per-ballot cost stays
 * flat as processes and masters are added (each ballot touches one shard slot and one user slot).
 */
export function capacityRows(perBallotUs: Record<string, number>, results: Record<string, unknown>): Row[] {
  const node = (perBallotUs.server ?? NaN) + (perBallotUs.worker ?? NaN);
  const redis = perBallotUs.redis ?? NaN;
  const table = RATES.map((rate) => ({ rate, nodeCores: Math.ceil((rate * node) / 1e6 / UTILISATION), redisMasters: Math.ceil((rate * redis) / 1e6 / UTILISATION) }));
  results.capacity = { utilisation: UTILISATION, perBallotUs: { node, redis }, table };
  return table.map((t) => ({
    phase: '8 capacity',
    metric: `${fmt(t.rate)} ballots/s needs`,
    value: `${t.nodeCores} Node cores (server + worker), ${t.redisMasters} Redis masters`,
    note: t.rate === RATES[0] ? `from this run's ${fmt(node)} µs Node + ${fmt(redis)} µs Redis per ballot at ${UTILISATION * 100}% utilisation; S >= masters shards per city-wide poll` : undefined,
  }));
}

/**
 * What the vote run could reach at most on this machine, from the CPU each process used per request:
 * every process of a run (the server, the worker, redis-server, the load tool) shares the same cores, so
 * ballots/s <= cores × 1 s ÷ (their CPU per ballot summed), and likewise for the node:http baseline; the
 * ratio between the two is then at most Σhello ÷ Σballot, however the run is scheduled. `used`: the cores
 * the processes actually kept busy over the run (the rest went to other jobs on the machine, or idled).
 */
export function ceilingRow(
  cores: number,
  ballot: { perBallotUs: Record<string, number>; cpuMs: Record<string, number>; wallMs: number; okPerSec: number },
  hello: { serverCpuPerReqUs: number; loadCpuPerReqUs: number; okPerSec: number },
  results: Record<string, unknown>,
): Row {
  const b = ballot.perBallotUs;
  const sumBallot = (b.server ?? 0) + (b.worker ?? 0) + (b.redis ?? 0) + (b.load ?? 0);
  const sumHello = hello.serverCpuPerReqUs + hello.loadCpuPerReqUs;
  const ceilingBallots = (cores * 1e6) / sumBallot;
  const ceilingHello = (cores * 1e6) / sumHello;
  const maxRatio = sumHello / sumBallot;
  const used = Object.values(ballot.cpuMs).reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0) / ballot.wallMs;
  results.ceiling = { cores, sumBallotUs: sumBallot, sumHelloUs: sumHello, ceilingBallotsPerSec: ceilingBallots, ceilingHelloPerSec: ceilingHello, maxRatio, coresUsedByVoteRun: used };
  return {
    phase: '1 votes',
    metric: `ceiling on ${cores} shared cores: ballots/s | node:http req/s (max ratio)`,
    value: `${fmt(ceilingBallots)} | ${fmt(ceilingHello)}  (max ${fmt(maxRatio, 2)})`,
    note:
      `${fmt(cores)} × 1,000,000 µs ÷ (server ${fmt(b.server)} + worker ${fmt(b.worker)} + redis-server ${fmt(b.redis)} + load tool ${fmt(b.load)} = ${fmt(sumBallot)} µs per ballot); ` +
      `node:http ${fmt(cores)} × 1,000,000 ÷ (server ${fmt(hello.serverCpuPerReqUs)} + load tool ${fmt(hello.loadCpuPerReqUs)} = ${fmt(sumHello)} µs); ` +
      `ratio <= ${fmt(sumHello)} ÷ ${fmt(sumBallot)} = ${fmt(maxRatio, 2)} on this machine (0.5 needs <= ${fmt(2 * sumHello)} µs per ballot over all four); ` +
      `measured ${fmt(ballot.okPerSec)} ballots/s = ${fmt((100 * ballot.okPerSec) / ceilingBallots)}% of the ceiling, the run's processes kept ${fmt(used, 2)} of ${fmt(cores)} cores busy`,
  };
}
