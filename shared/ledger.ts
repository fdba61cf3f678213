import { z } from 'zod';

const count = z.number().int().min(0);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * The published ballot ledger's record: written once at finalisation (SET NX), embedded in the final
 * snapshot (results.json) and shown on the integrity page. The files it names are immutable.
 */
export const ledgerExportSchema = z.object({
  rows: count,
  jsonl: z.object({ sha256: sha256Hex, bytes: count }),
  csv: z.object({ sha256: sha256Hex, bytes: count }),
  writtenAt: z.string(),
});
export type LedgerExport = z.infer<typeof ledgerExportSchema>;

/** One row of `ledger.jsonl` (and of `ledger.csv`): the receipt's tag and the answers, nothing else. */
export const ledgerRowSchema = z.object({ tag: sha256Hex, answers: z.record(z.string(), z.array(z.string())) }).strict();
export type LedgerRow = z.infer<typeof ledgerRowSchema>;
