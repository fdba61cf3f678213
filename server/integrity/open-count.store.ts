import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { ledgerExportSchema, type LedgerExport } from '../../shared/ledger.ts';

export type OpenCounts = {
  refused: { duplicate: number; late: number; early: number; invalid: number };
  /** epoch minute -> accepted ballots */
  perMinute: Map<number, number>;
  /** respondent cell -> ballots */
  cells: Record<string, number>;
  /** `<cell>|<tally field>` -> count */
  cellFields: Record<string, number>;
};

/**
 * The open count's Redis side: the per-shard counts hashes the cast script keeps (summed over shards),
 * the awarded bitmaps' popcount, the published ledger's record (written once) and a chunked read of the
 * ballot ledger streams.
 */
export function createOpenCountStore(redis: Redis, keys: Keys) {
  const shardsOf = (n: number) => Array.from({ length: n }, (_, k) => k);
  return {
    async counts(pollId: number, shards: number): Promise<OpenCounts> {
      const hashes = await Promise.all(shardsOf(shards).map((k) => redis.hgetall(keys.pollCounts(pollId, k))));
      const out: OpenCounts = { refused: { duplicate: 0, late: 0, early: 0, invalid: 0 }, perMinute: new Map(), cells: {}, cellFields: {} };
      for (const h of hashes) {
        for (const [f, raw] of Object.entries(h)) {
          const n = Number(raw);
          if (f.startsWith('r:')) {
            const why = f.slice(2) as keyof OpenCounts['refused'];
            if (why in out.refused) out.refused[why] += n;
          } else if (f.startsWith('m:')) {
            const m = Number(f.slice(2));
            out.perMinute.set(m, (out.perMinute.get(m) ?? 0) + n);
          } else if (f.startsWith('n:')) out.cells[f.slice(2)] = (out.cells[f.slice(2)] ?? 0) + n;
          else if (f.startsWith('c:')) out.cellFields[f.slice(2)] = (out.cellFields[f.slice(2)] ?? 0) + n;
        }
      }
      return out;
    },

    /** Voters whose points award is known made (BITCOUNT of the awarded bitmaps). */
    async awarded(pollId: number, shards: number): Promise<number> {
      const n = await Promise.all(shardsOf(shards).map((k) => redis.bitcount(keys.pollAwarded(pollId, k))));
      return n.reduce((s, x) => s + x, 0);
    },

    async ledgerLength(pollId: number, shards: number): Promise<number> {
      const n = await Promise.all(shardsOf(shards).map((k) => redis.xlen(keys.pollLedger(pollId, k))));
      return n.reduce((s, x) => s + x, 0);
    },

    /** Every ledger entry's `v` and `a`, shard by shard, in chunks of `count`. */
    async *ledgerEntries(pollId: number, shards: number, count = 10_000): AsyncGenerator<{ v: string; a: string }[]> {
      for (let k = 0; k < shards; k++) {
        let start = '-';
        for (;;) {
          const rows = await redis.xrange(keys.pollLedger(pollId, k), start, '+', 'COUNT', count);
          if (!rows.length) break;
          const out: { v: string; a: string }[] = [];
          for (const [, f] of rows) {
            let v = '';
            let a = '';
            for (let i = 0; i < f.length; i += 2) {
              if (f[i] === 'v') v = f[i + 1];
              else if (f[i] === 'a') a = f[i + 1];
            }
            out.push({ v, a });
          }
          yield out;
          if (rows.length < count) break;
          start = `(${rows[rows.length - 1][0]}`;
        }
      }
    },

    async getExport(pollId: number): Promise<LedgerExport | null> {
      const json = await redis.get(keys.pollLedgerExport(pollId));
      return json ? ledgerExportSchema.parse(JSON.parse(json)) : null;
    },

    /** Write the export's record once (SET NX); returns the record that is stored (ours or an earlier one). */
    async setExportOnce(pollId: number, record: LedgerExport): Promise<{ record: LedgerExport; won: boolean }> {
      const won = (await redis.set(keys.pollLedgerExport(pollId), JSON.stringify(record), 'NX')) === 'OK';
      if (won) return { record, won };
      return { record: (await this.getExport(pollId))!, won };
    },
  };
}
export type OpenCountStore = ReturnType<typeof createOpenCountStore>;
