/**
 * Concurrent reads of one key share one read, and every caller gets a read that STARTED after it asked:
 * while a read of a key is in flight, callers wait for the next one, which starts when it settles and
 * serves all of them. So a caller never gets data older than its request (a watcher that joined a room
 * and then reads its snapshot misses nothing), and N callers at once cost at most two reads, not N.
 */
export function coalesceReads<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const slots = new Map<K, { running: Promise<V>; next: Promise<V> | null }>();
  const launch = (key: K): Promise<V> => {
    const running = read(key);
    const slot = { running, next: null as Promise<V> | null };
    slots.set(key, slot);
    const settle = () => {
      // a queued read replaces this slot as it starts; otherwise the key is idle again
      if (!slot.next && slots.get(key) === slot) slots.delete(key);
    };
    running.then(settle, settle);
    return running;
  };
  return (key: K) => {
    const slot = slots.get(key);
    if (!slot) return launch(key);
    return (slot.next ??= slot.running.then(
      () => launch(key),
      () => launch(key),
    ));
  };
}
