import { DISTRICTS, OKRUGS } from '$shared/districts.ts';
import { lang } from '$lib/i18n/index.ts';

/**
 * District and okrug names in the page's language. Importing this brings the whole district table (~3.4 KB
 * gzipped) into a page's JavaScript: a page that shows one place takes its names from its load instead.
 */
const byId = new Map(DISTRICTS.map((d) => [d.id, d]));
const okrugById = new Map(OKRUGS.map((o) => [o.id as string, o]));

export const districtName = (id: string) => byId.get(id)?.name[lang()] ?? id;
export const okrugAbbr = (id: string) => okrugById.get(id)?.abbr[lang()] ?? id;
export { DISTRICTS, OKRUGS };
