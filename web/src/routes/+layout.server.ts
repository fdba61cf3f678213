import type { LayoutServerLoad } from './$types';

export const load = (async ({ locals }) => ({ lang: locals.lang })) satisfies LayoutServerLoad;
