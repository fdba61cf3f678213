import { page } from '$app/state';
import type { ru } from './ru.ts';
import type { adminRu } from './admin.ru.ts';
import type { staffRu } from './staff.ru.ts';
import type { cityRu } from './city.ru.ts';
import type { openCountRu } from './open-count.ru.ts';
import type { pagesRu } from './pages.ru.ts';

export type Lang = 'ru' | 'en';
/** The dictionary every page loads (ru.ts is the source of truth, en.ts must match it). */
export type Dict = Record<keyof typeof ru, string>;
/** Area dictionaries: loaded and merged into `dict` by their own routes only (i18n/areas.ts). */
export type AdminKey = keyof typeof adminRu;
export type StaffKey = keyof typeof staffRu;
/** Our City's area dictionary (city.*.ts), merged in by the /city layout and /me/reports. */
export type CityKey = keyof typeof cityRu;
export type OpenCountKey = keyof typeof openCountRu;
/** The rewards shop's and the projector's strings (pages.*.ts), merged in by those routes. */
export type PagesKey = keyof typeof pagesRu;
export type Key = keyof typeof ru | AdminKey | StaffKey | CityKey | OpenCountKey | PagesKey;
export const LANGS: readonly Lang[] = ['ru', 'en'];

/**
 * Only the page's language ships to the browser: the root +layout.ts imports it on demand and puts it in
 * page data (`dict`); `t()` reads it from there.
 */
export async function loadDict(lang: Lang): Promise<Dict> {
  return lang === 'en' ? (await import('./en.ts')).en : (await import('./ru.ts')).ru;
}

function fill(s: string, vars?: Record<string, string | number>): string {
  return vars ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : s;
}

/** A translator over a given dictionary (server code, tests). */
export function translator(dict: Dict & Partial<Record<Exclude<Key, keyof Dict>, string>>) {
  return (key: Key, vars?: Record<string, string | number>) => fill(dict[key] ?? key, vars);
}

/** The page's language, reactive (root layout data). Only during rendering or in event handlers. */
export function lang(): Lang {
  return (page.data as { lang?: Lang }).lang === 'en' ? 'en' : 'ru';
}

/** Translate in components: `t('nav.polls')`, `t('poll.ballots', { n })`. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  const dict = (page.data as { dict?: Partial<Record<Key, string>> }).dict;
  return fill(dict?.[key] ?? key, vars);
}

/** Keys with plural forms: `<key>.one|few|many|other` (Intl.PluralRules of the page's language). */
export type PluralKey = 'nav.unread' | 'dash.turnout';

/** Translate a count: `tn('nav.unread', 1)` → "1 непрочитанное", `tn('nav.unread', 5)` → "5 непрочитанных". */
export function tn(key: PluralKey, n: number, vars?: Record<string, string>): string {
  const rule = new Intl.PluralRules(lang() === 'en' ? 'en' : 'ru').select(n);
  return t(`${key}.${rule}` as Key, { ...vars, n: formatNumber(n) });
}

/** An API/ack error code as a message in the page's language (unknown codes fall back to `internal`). */
export function errorText(err: { code: string } | null | undefined): string {
  if (!err) return '';
  if (err.code === 'network') return t('error.network');
  const key = `error.${err.code}` as Key;
  const dict = (page.data as { dict?: Dict }).dict;
  return dict && key in dict ? t(key) : t('error.internal');
}

export function formatDate(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'ru-RU', { day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Moscow' }).format(d);
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(lang() === 'en' ? 'en-GB' : 'ru-RU').format(n);
}

/** A share given in percent (37.5 → "37,5 %" in Russian, "37.5%" in English), at most `digits` decimals. */
export function formatPercent(pct: number, digits = 1): string {
  return new Intl.NumberFormat(lang() === 'en' ? 'en-GB' : 'ru-RU', { style: 'percent', maximumFractionDigits: digits }).format(pct / 100);
}
