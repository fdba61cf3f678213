import { mkdir, open, readFile, rename, rm, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Where photo bytes live, by name (`<sha256>.jpg`, `<sha256>.thumb.jpg`). Content-addressed, so a put of
 * an existing name is a no-op and a name always means the same bytes. Another backend (S3, …) implements
 * the same four calls.
 */
export interface PhotoStorage {
  /** Stores the bytes under `name` (atomically: readers never see half a file); true if it was new. */
  put(name: string, data: Buffer): Promise<boolean>;
  get(name: string): Promise<Buffer | null>;
  delete(name: string): Promise<void>;
  /** Names stored longer ago than `olderThanMs` (for the orphan sweep). */
  listOlderThan(olderThanMs: number): Promise<string[]>;
}

const NAME = /^[0-9a-f]{64}(\.thumb)?\.jpg$/;

/** Files under `dir/<first two hex digits>/<name>`, written to a temp file, fsynced, then renamed. */
export function createDiskPhotoStorage(dir: string): PhotoStorage {
  const pathOf = (name: string) => {
    if (!NAME.test(name)) throw new Error(`bad photo name ${name}`);
    return join(dir, name.slice(0, 2), name);
  };
  return {
    async put(name, data) {
      const path = pathOf(name);
      try {
        await stat(path);
        return false;
      } catch {
        /* new */
      }
      await mkdir(join(dir, name.slice(0, 2)), { recursive: true });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      return true;
    },
    async get(name) {
      try {
        return await readFile(pathOf(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async delete(name) {
      await rm(pathOf(name), { force: true });
    },
    async listOlderThan(olderThanMs) {
      const out: string[] = [];
      const cutoff = Date.now() - olderThanMs;
      let subs: string[] = [];
      try {
        subs = await readdir(dir);
      } catch {
        return out;
      }
      for (const sub of subs.filter((s) => /^[0-9a-f]{2}$/.test(s))) {
        for (const f of await readdir(join(dir, sub))) {
          if (!NAME.test(f) && !f.endsWith('.tmp')) continue;
          const st = await stat(join(dir, sub, f)).catch(() => null);
          if (st && st.mtimeMs < cutoff) out.push(f);
        }
      }
      return out;
    },
  };
}
