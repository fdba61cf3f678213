import { errorText, t, type Key, type Lang } from '$lib/i18n/index.ts';

/** Our City's strings in the page's language (only the city pages download them). */
export const cityDict = async (lang: Lang) =>
  lang === 'en' ? (await import('$lib/i18n/city.en.ts')).cityEn : (await import('$lib/i18n/city.ru.ts')).cityRu;

const CITY_ERRORS = new Set(['duplicate', 'invalid_state', 'payload_too_large', 'unsupported_media_type', 'bad_request', 'rate_limited']);

/** An API error worded for Our City (photo and concurrency errors say what happened), else the shared wording. */
export function cityError(err: { code: string } | null | undefined): string {
  if (!err) return '';
  return CITY_ERRORS.has(err.code) ? t(`city.error.${err.code}` as Key) : errorText(err);
}
