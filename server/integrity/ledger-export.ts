import { createHash, randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import type { LedgerExport } from '../../shared/ledger.ts';
import type { OpenCountStore } from './open-count.store.ts';

const PROGRESS_EVERY = 100_000;
const WRITE_CHUNK = 2_000;

/** Where a deployment's published ledgers live: `<DATA_DIR>/open-data/<prefix>/ledgers/<pollId>/`. */
export function ledgerDir(dataDir: string, prefix: string, pollId: number): string {
  return join(dataDir, 'open-data', prefix.replace(/[^A-Za-z0-9_-]/g, '_') || '_', 'ledgers', String(pollId));
}
/** Files are named by their own SHA-256: a name can never hold other bytes than the ones published. */
export const ledgerFile = (dir: string, sha256: string, ext: 'jsonl' | 'csv') => join(dir, `${sha256}.${ext}`);

/** In-place Fisher-Yates over a permutation, every swap drawn from the CSPRNG (crypto.randomInt). */
export function shuffledOrder(n: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Streams lines to a file, hashing as it goes; waits for drain so a 1M-row export stays in bounded memory. */
async function writeHashed(path: string, lines: (emit: (chunk: string) => Promise<void>) => Promise<void>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const out = createWriteStream(path, { flags: 'wx' });
  const done = new Promise<void>((res, rej) => {
    out.on('finish', res);
    out.on('error', rej);
  });
  const emit = async (chunk: string) => {
    const buf = Buffer.from(chunk, 'utf8');
    hash.update(buf);
    bytes += buf.length;
    if (!out.write(buf)) await new Promise<void>((res, rej) => {
      out.once('drain', res);
      out.once('error', rej);
    });
  };
  try {
    await lines(emit);
  } finally {
    out.end();
  }
  await done;
  const fh = await open(path, 'r');
  await fh.sync().finally(() => fh.close());
  return { sha256: hash.digest('hex'), bytes };
}

export type LedgerExportInput = {
  pollId: number;
  shards: number;
  questionIds: string[];
  /** Tag of a ledger entry written before `v` became the receipt's tag (built lazily, only if one is met). */
  legacyTags?: () => Promise<Map<string, string>>;
};

/**
 * The published ballot ledger of a closed poll: one row per ballot — the receipt's tag and the answers —
 * in an order drawn from the CSPRNG (no times, no sequence), as `ledger.jsonl` and `ledger.csv`. Written
 * to temporary files, fsynced, renamed to their SHA-256, then the record is stored once (SET NX): a second
 * run (a retried or racing finalise) returns the stored record and removes its own files. Memory: 32
 * bytes per ballot for the tags, 8 for the order, plus one string per distinct answer set.
 */
export async function exportLedger(
  deps: { store: OpenCountStore; dir: string; logger: Logger },
  input: LedgerExportInput,
  progress: (p: { exported: number; of: number }) => unknown = () => {},
): Promise<LedgerExport> {
  const { store, dir } = deps;
  const log = deps.logger.child({ pollId: input.pollId, component: 'ledger-export' });
  const existing = await store.getExport(input.pollId);
  if (existing) return existing;

  const n = await store.ledgerLength(input.pollId, input.shards);
  const tags = Buffer.alloc(n * 32);
  const answerOf = new Uint32Array(n);
  const pool: string[] = [];
  const poolIndex = new Map<string, number>();
  let legacy: Map<string, string> | null = null;
  let i = 0;
  for await (const chunk of store.ledgerEntries(input.pollId, input.shards)) {
    for (const e of chunk) {
      if (i >= n) break; // the poll is closed: the ledger cannot grow; guard the buffer anyway
      let tag = e.v;
      if (!/^[0-9a-f]{64}$/.test(tag)) {
        legacy ??= input.legacyTags ? await input.legacyTags() : new Map();
        const t = legacy.get(tag);
        if (!t) throw new Error(`ledger entry with an unknown voter hash in poll ${input.pollId}`);
        tag = t;
      }
      tags.write(tag, i * 32, 'hex');
      let a = poolIndex.get(e.a);
      if (a === undefined) {
        a = pool.push(e.a) - 1;
        poolIndex.set(e.a, a);
      }
      answerOf[i++] = a;
    }
    if (Math.floor(i / PROGRESS_EVERY) > Math.floor((i - chunk.length) / PROGRESS_EVERY)) log.info({ read: i, of: n }, 'ledger export: reading');
  }
  if (i !== n) throw new Error(`ledger of poll ${input.pollId} changed while exporting (${i} of ${n} entries read)`);

  const order = shuffledOrder(n);
  const csvTail = pool.map((json) => {
    const a = JSON.parse(json) as Record<string, string[]>;
    return input.questionIds.map((q) => csvCell((a[q] ?? []).join(';'))).join(',');
  });
  await mkdir(dir, { recursive: true });
  const tmp = (ext: string) => join(dir, `.tmp-${process.pid}-${Date.now()}-${randomInt(1e9)}.${ext}`);
  const tmpJsonl = tmp('jsonl');
  const tmpCsv = tmp('csv');
  try {
    const rows = async (emit: (s: string) => Promise<void>, line: (tag: string, a: number) => string, label: string) => {
      for (let at = 0; at < n; at += WRITE_CHUNK) {
        let s = '';
        const end = Math.min(n, at + WRITE_CHUNK);
        for (let r = at; r < end; r++) {
          const idx = order[r];
          s += line(tags.toString('hex', idx * 32, idx * 32 + 32), answerOf[idx]);
        }
        await emit(s);
        if (Math.floor(end / PROGRESS_EVERY) > Math.floor(at / PROGRESS_EVERY)) {
          log.info({ file: label, exported: end, of: n }, 'ledger export: writing');
          await progress({ exported: end, of: n });
        }
      }
    };
    const jsonl = await writeHashed(tmpJsonl, (emit) => rows(emit, (tag, a) => `{"tag":"${tag}","answers":${pool[a]}}\n`, 'jsonl'));
    const csv = await writeHashed(tmpCsv, async (emit) => {
      await emit(['tag', ...input.questionIds].map(csvCell).join(',') + '\r\n');
      await rows(emit, (tag, a) => `${tag},${csvTail[a]}\r\n`, 'csv');
    });
    await rename(tmpJsonl, ledgerFile(dir, jsonl.sha256, 'jsonl'));
    await rename(tmpCsv, ledgerFile(dir, csv.sha256, 'csv'));
    const mine: LedgerExport = { rows: n, jsonl, csv, writtenAt: new Date().toISOString() };
    const { record, won } = await store.setExportOnce(input.pollId, mine);
    if (!won) {
      // another run published first: its files are the open data; ours (another order) must not linger
      if (record.jsonl.sha256 !== jsonl.sha256) await rm(ledgerFile(dir, jsonl.sha256, 'jsonl'), { force: true });
      if (record.csv.sha256 !== csv.sha256) await rm(ledgerFile(dir, csv.sha256, 'csv'), { force: true });
    }
    log.info({ rows: n, sha256: record.jsonl.sha256, won }, 'ledger export written');
    return record;
  } finally {
    await rm(tmpJsonl, { force: true });
    await rm(tmpCsv, { force: true });
  }
}

/** Whether a published file is still on disk with its recorded size (a missing disk is an operator alarm). */
export async function ledgerFilePresent(path: string, bytes: number): Promise<boolean> {
  try {
    return (await stat(path)).size === bytes;
  } catch {
    return false;
  }
}
