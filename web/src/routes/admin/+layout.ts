import { withArea } from '$lib/i18n/areas.ts';
import type { LayoutLoad } from './$types';

/** Merges the admin area's strings into the page's dictionary: only /admin pages download them. */
export const load = withArea('admin') satisfies LayoutLoad;
