import { cityDict } from '$lib/city/dict.ts';
import type { PageLoad } from './$types';

/** Our City's strings for this page (it lives under /me, outside the /city layout that merges them). */
export const load = (async ({ data, parent }) => {
  const { dict, lang } = await parent();
  return { ...data, dict: { ...dict, ...(await cityDict(lang)) } };
}) satisfies PageLoad;
