import type { Handle } from '@sveltejs/kit';
import type { User } from '$shared/values/users.ts';
import { serverApi } from '$lib/server/api.ts';

/**
 * Language: Russian by default; English when the `lang` cookie (set by the switcher) or `?lang=en` says so.
 * User: resolved once per request from the session cookie through GET /api/me (null when signed out).
 */
export const handle: Handle = async ({ event, resolve }) => {
  const q = event.url.searchParams.get('lang');
  if (q === 'en' || q === 'ru') event.cookies.set('lang', q, { path: '/', httpOnly: false, sameSite: 'lax', maxAge: 365 * 86400 });
  const cookie = q ?? event.cookies.get('lang');
  const lang = cookie === 'en' ? 'en' : 'ru';
  event.locals.lang = lang;
  event.locals.user = null;
  if (event.cookies.get('ac_sid')) {
    const me = await serverApi(event)<User | { user: User }>('/me');
    if (me.ok && me.data) event.locals.user = 'user' in me.data ? me.data.user : me.data;
  }
  return resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', lang) });
};
