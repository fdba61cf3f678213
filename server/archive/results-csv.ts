import { RESULTS_CSV_HEADER } from '../../shared/archive.ts';
import type { PollFinal } from '../../shared/polls.ts';

/** The texts the snapshot refers to by id (from the poll's definition). */
export type CsvPoll = {
  id: number;
  questions: { id: string; text: string; options: { id: string; label: string }[] }[];
};

/**
 * A spreadsheet must never run a cell as a formula: text starting with = + - @ (or a tab/CR) gets a
 * leading apostrophe. Only free text is touched; ids and counts never start that way.
 */
const defuse = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
const cell = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Excel on Windows reads a CSV without a byte-order mark as the ANSI code page (Cyrillic turns to mojibake). */
export const UTF8_BOM = '\uFEFF';

/**
 * RFC 4180 CSV of a finalised snapshot, starting with a UTF-8 BOM: a `ballots` row, per question (in
 * definition order) a `respondents` row (ballots that answered it: the base of its percentages) when the
 * snapshot has it and one `option` row per option, then one row per breakdown group (`district`,
 * `age_band`; groups under the anonymity threshold are already merged into "other"), `weighted_option` rows
 * (the raked result; none while the panel withholds its per-question figures) and `ledger_sha256` rows
 * (group `jsonl`/`csv`, the hash in `count`) when the snapshot has them. No personal data: counts only.
 */
export function resultsCsv(poll: CsvPoll, final: PollFinal): string {
  const rows: (string | number)[][] = [[...RESULTS_CSV_HEADER]];
  const r = final.results;
  rows.push([poll.id, 'ballots', '', '', '', '', '', r.ballots]);
  for (const q of r.questions) {
    const def = poll.questions.find((x) => x.id === q.id);
    if (q.respondents !== undefined) rows.push([poll.id, 'respondents', q.id, defuse(def?.text ?? ''), '', '', '', q.respondents]);
    for (const o of q.options) {
      const label = def?.options.find((x) => x.id === o.id)?.label ?? '';
      rows.push([poll.id, 'option', q.id, defuse(def?.text ?? ''), o.id, defuse(label), '', o.count]);
    }
  }
  for (const g of r.breakdown.district) rows.push([poll.id, 'district', '', '', '', '', g.key, g.ballots]);
  for (const g of r.breakdown.ageBand) rows.push([poll.id, 'age_band', '', '', '', '', g.key, g.ballots]);
  // the raked result (weighted counts over complete profiles, 2 decimals) and the published ledger's hashes
  for (const q of final.representativeness?.weighting ? final.representativeness.questions : []) {
    for (const o of q.options) rows.push([poll.id, 'weighted_option', q.id, '', o.id, '', '', o.weighted.toFixed(2)]);
  }
  if (final.ledger) {
    rows.push([poll.id, 'ledger_sha256', '', '', '', '', 'jsonl', final.ledger.jsonl.sha256]);
    rows.push([poll.id, 'ledger_sha256', '', '', '', '', 'csv', final.ledger.csv.sha256]);
  }
  return UTF8_BOM + rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF) — for tests and tools reading the export back. */
export function parseCsv(text: string): string[][] {
  if (text.startsWith(UTF8_BOM)) text = text.slice(1);
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    out.push(row);
  }
  return out;
}
