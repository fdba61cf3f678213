import { loadDict } from '$lib/i18n/index.ts';
import type { LayoutLoad } from './$types';

/** Adds the page language's dictionary (only that one is downloaded) to the server layout data. */
export const load = (async ({ data }) => ({ ...data, dict: await loadDict(data.lang) })) satisfies LayoutLoad;
