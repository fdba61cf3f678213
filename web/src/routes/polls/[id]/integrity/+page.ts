import { areaDict } from '$lib/i18n/areas.ts';
import type { PageLoad } from './$types';

/** The open count's strings join the page's dictionary here only (the poll page keeps its JS budget). */
export const load = (async ({ data, parent }) => {
  const { dict, lang } = await parent();
  return { ...data, dict: { ...dict, ...(await areaDict('openCount', lang)) } };
}) satisfies PageLoad;
