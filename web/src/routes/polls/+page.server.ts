import { serverApi } from '$lib/server/api.ts';
import { FEED_TABS, feedStatus, type FeedTab } from '$lib/polls.ts';
import type { PollListItem } from '$shared/values/polls.ts';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  const q = event.url.searchParams.get('tab');
  const tab: FeedTab = (FEED_TABS as readonly string[]).includes(q ?? '') ? (q as FeedTab) : 'active';
  const r = await serverApi(event)<{ polls: PollListItem[] }>(`/polls?status=${feedStatus(tab)}`);
  return { tab, polls: r.ok ? r.data.polls : [], error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;
