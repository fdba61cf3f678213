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
