import { getContext, onMount, setContext } from 'svelte';
import { getSocket } from './socket.ts';
import type { NotificationFrame } from '$shared/socket.ts';

/**
 * The unread-notifications badge: starts from the count the server rendered, then follows the socket's
 * `notification` frames (each carries the new unread count). Created by the root layout, one per tab.
 */
const KEY = Symbol('inbox');
/** The layout's inbox, for pages that change the unread count (the inbox page marks everything read). */
export const useInbox = () => getContext<ReturnType<typeof createInbox> | undefined>(KEY);

export function createInbox(userId: () => number | null, initialUnread: () => number) {
  let unread = $state(initialUnread());
  let latest = $state<NotificationFrame | null>(null);
  $effect.pre(() => {
    unread = initialUnread();
  });
  onMount(() => {
    const socket = getSocket();
    const onNote = (f: NotificationFrame) => {
      latest = f;
      unread = f.unread;
    };
    socket.on('notification', onNote);
    return () => socket.off('notification', onNote);
  });
  const inbox = {
    get unread() {
      return userId() ? unread : 0;
    },
    get latest() {
      return latest;
    },
    set unread(n: number) {
      unread = n;
    },
  };
  setContext(KEY, inbox);
  return inbox;
}
