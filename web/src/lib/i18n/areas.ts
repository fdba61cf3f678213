import type { Lang } from './index.ts';

/** Area dictionaries: strings only some routes need, downloaded by those routes only (the poll page has a budget). */
const AREAS = {
  admin: async (lang: Lang) => (lang === 'en' ? (await import('./admin.en.ts')).adminEn : (await import('./admin.ru.ts')).adminRu),
  staff: async (lang: Lang) => (lang === 'en' ? (await import('./staff.en.ts')).staffEn : (await import('./staff.ru.ts')).staffRu),
  pages: async (lang: Lang) => (lang === 'en' ? (await import('./pages.en.ts')).pagesEn : (await import('./pages.ru.ts')).pagesRu),
  openCount: async (lang: Lang) => (lang === 'en' ? (await import('./open-count.en.ts')).openCountEn : (await import('./open-count.ru.ts')).openCountRu),
};

/** An area's strings (for a page load that merges them into its own data). */
export const areaDict = (area: keyof typeof AREAS, lang: Lang): Promise<Record<string, string>> => AREAS[area](lang);

/**
 * A layout's universal `load` that merges an area's strings into the page's dictionary. For layouts whose
 * server load returns no data of its own (a universal load's result replaces it).
 */
export function withArea(...areas: (keyof typeof AREAS)[]) {
  return async ({ parent }: { parent: () => Promise<{ dict: Record<string, string>; lang: Lang }> }) => {
    const { dict, lang } = await parent();
    const extra = await Promise.all(areas.map((a) => AREAS[a](lang)));
    return { dict: Object.assign({}, dict, ...extra) };
  };
}
