import { Gauge, type Registry } from 'prom-client';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';

/**
 * Finalisation integrity alarms, recorded in Redis so that the /metrics of every server process shows
 * them (the worker that raised the alarm serves no HTTP): `ac_integrity_alarm_polls` (polls with at
 * least one alarm) and `ac_integrity_alarms_recorded{poll}` (alarms per poll). The worker also counts
 * them on its own `ac_integrity_alarms_total`.
 */
export function createIntegrityStore(redis: Redis, keys: Keys) {
  const store = {
    async record(pollId: number): Promise<number> {
      return redis.hincrby(keys.integrityAlarms(), String(pollId), 1);
    },
    async all(): Promise<Record<string, number>> {
      const h = await redis.hgetall(keys.integrityAlarms());
      return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
    },
    registerMetric(registry: Registry) {
      new Gauge({
        name: 'ac_integrity_alarms_recorded',
        help: 'Finalisation integrity alarms recorded in Redis, per poll (tallies vs ballot ledger vs voter marks)',
        labelNames: ['poll'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          try {
            for (const [poll, n] of Object.entries(await store.all())) this.set({ poll }, n);
          } catch {
            /* Redis down: the scrape shows nothing rather than failing */
          }
        },
      });
    },
  };
  return store;
}
export type IntegrityStore = ReturnType<typeof createIntegrityStore>;
