import { serverApi } from '$lib/server/api.ts';
import type { ArchiveItem, ArchivePage } from '$shared/archive.ts';
import type { PageServerLoad } from './$types';

/**
 * Polls waiting for city hall's answer: the finalised polls of the archive without a decision, soonest
 * deadline first (the archive items carry answerDeadline / overdue / workingDaysLeft).
 */
export const load = (async (event) => {
  const api = serverApi(event);
  const items: ArchiveItem[] = [];
  let error: string | null = null;
  for (let page = 1; page <= 10; page++) {
    const r = await api<ArchivePage>(`/archive?page=${page}&pageSize=50`);
    if (!r.ok) {
      error = r.error.code;
      break;
    }
    items.push(...r.data.items);
    if (page * r.data.pageSize >= r.data.total) break;
  }
  const byDeadline = (a: ArchiveItem, b: ArchiveItem) => (a.answerDeadline ?? '9').localeCompare(b.answerDeadline ?? '9');
  return {
    waiting: items.filter((i) => i.status === 'finalised' && !i.decision).sort(byDeadline),
    // decisions still moving (decided, in progress): the ones answered late first, then the longest untouched
    open: items
      .filter((i) => i.decision && (i.decision.status === 'decided' || i.decision.status === 'in_progress'))
      .sort((a, b) => Number(b.answeredLate) - Number(a.answeredLate) || a.decision!.updatedAt.localeCompare(b.decision!.updatedAt)),
    error,
  };
}) satisfies PageServerLoad;
