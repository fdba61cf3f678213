import { describe, it, expect } from 'vitest';
import { coalesceReads } from '../../server/coalesce.ts';

/** A store whose value moves on every write and whose reads finish only when the test says so. */
function slowStore() {
  let value = 0;
  const started: { at: number; finish: () => void }[] = [];
  const read = (_key: string) =>
    new Promise<number>((res, rej) => {
      const at = value;
      started.push({ at, finish: () => (at < 0 ? rej(new Error('boom')) : res(at)) });
    });
  return { read, started, write: () => value++, fail: () => (value = -1) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('coalesced reads', () => {
  it('when many callers ask while a read is in flight, then they share ONE next read that started after they asked', async () => {
    const s = slowStore();
    const get = coalesceReads(s.read);
    const first = get('p');
    s.write(); // after the first read started: the callers below must see it
    const later = Array.from({ length: 50 }, () => get('p'));
    expect(s.started).toHaveLength(1);
    s.started[0].finish();
    expect(await first).toBe(0);
    await tick();
    expect(s.started).toHaveLength(2); // one read for the 50
    s.started[1].finish();
    expect(await Promise.all(later)).toEqual(new Array(50).fill(1));
  });

  it('when callers arrive while the queued read runs, then they wait for the one after it; idle keys read at once', async () => {
    const s = slowStore();
    const get = coalesceReads(s.read);
    const a = get('p');
    const b = get('p');
    s.started[0].finish();
    await tick();
    s.write();
    const c = get('p'); // the read for b has started before this write was requested: c needs another
    s.started[1].finish();
    expect([await a, await b]).toEqual([0, 0]);
    await tick();
    expect(s.started).toHaveLength(3);
    s.started[2].finish();
    expect(await c).toBe(1);
    await tick();
    const d = get('p'); // nothing in flight: a read of its own, at once
    expect(s.started).toHaveLength(4);
    s.started[3].finish();
    expect(await d).toBe(1);
    const other = get('q');
    expect(s.started).toHaveLength(5); // keys are independent
    s.started[4].finish();
    await other;
  });

  it('when a read fails, then its callers get the error and the queued callers still get a fresh read', async () => {
    const s = slowStore();
    const get = coalesceReads(s.read);
    s.fail();
    const a = get('p');
    const b = get('p');
    s.write(); // 0: readable again for the read that starts next
    s.started[0].finish();
    await expect(a).rejects.toThrow('boom');
    await tick();
    s.started[1].finish();
    expect(await b).toBe(0);
  });
});
