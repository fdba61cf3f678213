import { lang } from '$lib/i18n/index.ts';
import type { Catalogue } from '$lib/server/city.ts';

/** Display names for catalogue ids in reports (category, organisation) in the page's language. */
export const categoryName = (cat: Catalogue, code: string) => cat.categories.find((c) => c.code === code)?.name[lang()] ?? code;
export const organisationName = (cat: Catalogue, id: number | null) =>
  id === null ? '' : (cat.organisations.find((o) => o.id === id)?.name[lang()] ?? `#${id}`);
