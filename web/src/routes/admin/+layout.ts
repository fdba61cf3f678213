import type { Lang } from '$lib/i18n/index.ts';
import type { LayoutLoad } from './$types';

const adminDict = async (lang: Lang) => (lang === 'en' ? (await import('$lib/i18n/admin.en.ts')).adminEn : (await import('$lib/i18n/admin.ru.ts')).adminRu);

/** Merges the admin area's strings into the page's dictionary: only /admin pages download them. */
export const load = (async ({ data, parent }) => {
  const { dict, lang } = await parent();
  return { ...data, dict: { ...dict, ...(await adminDict(lang)) } };
}) satisfies LayoutLoad;
