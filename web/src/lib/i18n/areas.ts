import type { Lang } from './index.ts';

/** Area dictionaries: strings only some routes need, downloaded by those routes only (the poll page has a budget). */
const AREAS = {
  admin: async (lang: Lang) => (lang === 'en' ? (await import('./admin.en.ts')).adminEn : (await import('./admin.ru.ts')).adminRu),
  staff: async (lang: Lang) => (lang === 'en' ? (await import('./staff.en.ts')).staffEn : (await import('./staff.ru.ts')).staffRu),
};

/**
 * A layout's universal `load` that merges an area's strings into the page's dictionary. For layouts whose
 * server load returns no data of its own (a universal load's result replaces it).
 */
export function withArea(area: keyof typeof AREAS) {
  return async ({ parent }: { parent: () => Promise<{ dict: Record<string, string>; lang: Lang }> }) => {
    const { dict, lang } = await parent();
    return { dict: { ...dict, ...(await AREAS[area](lang)) } };
  };
}
