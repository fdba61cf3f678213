import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AGE_BANDS } from '../../shared/polls.ts';
import { GENDERS } from '../../shared/users.ts';
import { isDistrictId } from '../../shared/districts.ts';
import { parseCsv } from '../archive/results-csv.ts';

export const POPULATION_HEADER = ['district', 'age_band', 'gender', 'count'] as const;

/** One row of the operator's POPULATION_FILE. */
export const populationRowSchema = z
  .object({
    district: z.string().refine(isDistrictId, 'unknown district slug (see GET /api/districts)'),
    age_band: z.enum(AGE_BANDS),
    gender: z.enum(GENDERS),
    count: z.string().regex(/^\d{1,9}$/, 'must be a whole number').transform(Number),
  })
  .strict();
export type PopulationRow = z.infer<typeof populationRowSchema>;

/**
 * Official population figures supplied by the operator: CSV with the header `district,age_band,gender,count`,
 * one row per cell, no duplicates. Throws an Error naming the line and the field on the first problem.
 */
export function parsePopulationCsv(text: string): PopulationRow[] {
  const lines = parseCsv(text.replace(/^\uFEFF/, '').replace(/\r?\n/g, '\r\n')).filter((r) => r.some((c) => c.trim() !== ''));
  if (!lines.length) throw new Error('the file is empty');
  const header = lines[0].map((h) => h.trim());
  if (header.join(',') !== POPULATION_HEADER.join(',')) throw new Error(`the header must be "${POPULATION_HEADER.join(',')}", not "${header.join(',')}"`);
  const seen = new Set<string>();
  return lines.slice(1).map((cells, i) => {
    const line = i + 2;
    if (cells.length !== POPULATION_HEADER.length) throw new Error(`line ${line}: ${cells.length} fields, expected ${POPULATION_HEADER.length}`);
    const r = populationRowSchema.safeParse(Object.fromEntries(POPULATION_HEADER.map((h, j) => [h, cells[j].trim()])));
    if (!r.success) throw new Error(`line ${line}: ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    const key = `${r.data.district}|${r.data.age_band}|${r.data.gender}`;
    if (seen.has(key)) throw new Error(`line ${line}: duplicate row for ${key}`);
    seen.add(key);
    return r.data;
  });
}

export function readPopulationFile(path: string): PopulationRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePopulationCsv(text);
}
