import type { Handle } from '@sveltejs/kit';

/** Language: Russian by default; English when the `lang` cookie (set by the switcher) or `?lang=en` says so. */
export const handle: Handle = async ({ event, resolve }) => {
  const q = event.url.searchParams.get('lang');
  if (q === 'en' || q === 'ru') event.cookies.set('lang', q, { path: '/', httpOnly: false, sameSite: 'lax', maxAge: 365 * 86400 });
  const cookie = q ?? event.cookies.get('lang');
  const lang = cookie === 'en' ? 'en' : 'ru';
  event.locals.lang = lang;
  return resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', lang) });
};
