import { DISTRICTS, OKRUGS } from '$shared/districts.ts';
import { lang } from '$lib/i18n/index.ts';
import type { Catalogue } from '$lib/server/city.ts';

/** Display names for ids in reports (district, okrug, category, organisation) in the page's language. */
const byId = new Map(DISTRICTS.map((d) => [d.id, d]));
const okrugById = new Map(OKRUGS.map((o) => [o.id as string, o]));

export const districtName = (id: string) => byId.get(id)?.name[lang()] ?? id;
export const okrugAbbr = (id: string) => okrugById.get(id)?.abbr[lang()] ?? id;
export const categoryName = (cat: Catalogue, code: string) => cat.categories.find((c) => c.code === code)?.name[lang()] ?? code;
export const organisationName = (cat: Catalogue, id: number | null) =>
  id === null ? '' : (cat.organisations.find((o) => o.id === id)?.name[lang()] ?? `#${id}`);
export { DISTRICTS, OKRUGS };
