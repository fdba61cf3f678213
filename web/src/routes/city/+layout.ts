import { cityDict } from '$lib/city/dict.ts';
import type { LayoutLoad } from './$types';

/** Merges Our City's strings into the page's dictionary: only the city pages download them. */
export const load = (async ({ parent }) => {
  const { dict, lang } = await parent();
  return { dict: { ...dict, ...(await cityDict(lang)) } };
}) satisfies LayoutLoad;
