import { areaDict } from '$lib/i18n/areas.ts';
import type { PageLoad } from './$types';

/** This page's strings join the dictionary here only (the poll page keeps its JS budget). */
export const load = (async ({ data, parent }) => {
  const { dict, lang } = await parent();
  return { ...data, dict: { ...dict, ...(await areaDict('pages', lang)) } };
}) satisfies PageLoad;
