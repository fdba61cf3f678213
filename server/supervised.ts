/**
 * The link to `npm start`'s supervisor (scripts/start.ts), when this process runs under it: an IPC
 * channel. It carries the supervisor's restart counts (for /metrics), and its closing means the
 * supervisor is gone (killed outright), so this process drains and stops rather than run unsupervised.
 * The channel is unreferenced: it never keeps a process alive that has finished its work.
 */
export function followSupervisor(handlers: { onRestarts?: (counts: Record<string, number>) => void; onGone: () => void }): void {
  if (!process.connected || !process.channel) return;
  process.on('message', (m: unknown) => {
    const msg = m as { type?: unknown; counts?: unknown };
    if (msg?.type !== 'supervisor:restarts' || typeof msg.counts !== 'object' || !msg.counts) return;
    const counts: Record<string, number> = {};
    for (const [k, v] of Object.entries(msg.counts)) if (Number.isInteger(v)) counts[k] = v as number;
    handlers.onRestarts?.(counts);
  });
  process.once('disconnect', handlers.onGone);
  process.channel.unref();
  // counts sent before this listener existed were dropped: ask for the current ones
  process.send?.({ type: 'supervisor:hello' });
}
