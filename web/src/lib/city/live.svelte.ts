import { onMount } from 'svelte';
import { invalidate } from '$app/navigation';
import { getSocket } from '$lib/socket.ts';
import type { CityQueueFrame, CityReportFrame } from '$shared/city.ts';

/** The `depends()` keys the city loads register, so a live frame re-runs only the load it concerns. */
export const REPORT_DEP = 'city:report';
export const QUEUE_DEP = 'city:queue';

/**
 * Follows one report live: `city:watch` on every (re)connect, and each `city:report` frame for it re-runs the
 * page's load (the frame says what moved; the page reads the whole report, photos and timeline, from the API).
 * Call from a component's script; it subscribes in the browser and cleans up on destroy or when the id changes.
 */
export function followReport(reportId: () => number) {
  const state = $state({ connected: false, frames: 0, lastSeq: 0 });
  // an effect, not onMount: moving from one report to another keeps this component, and the id changes;
  // through a derived, so a reload of the same report (new page data, same id) does not re-subscribe
  const current = $derived(reportId());
  $effect(() => {
    const id = current;
    const socket = getSocket();
    const watch = () => {
      socket.timeout(10_000).emit('city:watch', { reportId: id }, (err: Error | null, res?: { ok: boolean }) => {
        state.connected = !err && !!res?.ok;
      });
    };
    const onFrame = (f: CityReportFrame) => {
      if (f.reportId !== id) return;
      state.frames += 1;
      state.lastSeq = f.seq;
      void invalidate(REPORT_DEP);
    };
    const onDisconnect = () => (state.connected = false);
    socket.on('connect', watch);
    socket.on('disconnect', onDisconnect);
    socket.on('city:report', onFrame);
    if (socket.connected) watch();
    return () => {
      socket.off('connect', watch);
      socket.off('disconnect', onDisconnect);
      socket.off('city:report', onFrame);
      if (socket.connected) socket.emit('city:unwatch', { reportId: id }, () => {});
    };
  });
  return state;
}

/**
 * A staff list (moderation queue, organisation inbox) kept current: `city:queue:watch` on every `session`
 * (sent after each (re)connect and whenever this user's roles change: a role given joins without a reload),
 * and each `city:queue` frame re-runs the list's load. `fresh` holds the ids announced since the page loaded,
 * so new rows can be highlighted.
 */
export function followQueue() {
  const state = $state({ connected: false, frames: 0, fresh: [] as number[] });
  onMount(() => {
    const socket = getSocket();
    const watch = () => {
      socket.timeout(10_000).emit('city:queue:watch', (err: Error | null, res?: { ok: boolean }) => {
        state.connected = !err && !!res?.ok;
      });
    };
    const onFrame = (f: CityQueueFrame) => {
      state.frames += 1;
      if (!state.fresh.includes(f.reportId)) state.fresh = [...state.fresh.slice(-49), f.reportId];
      void invalidate(QUEUE_DEP);
    };
    const onDisconnect = () => (state.connected = false);
    socket.on('session', watch);
    socket.on('disconnect', onDisconnect);
    socket.on('city:queue', onFrame);
    if (socket.connected) watch();
    return () => {
      socket.off('session', watch);
      socket.off('disconnect', onDisconnect);
      socket.off('city:queue', onFrame);
    };
  });
  return state;
}
