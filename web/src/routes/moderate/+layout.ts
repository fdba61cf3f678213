import { withArea } from '$lib/i18n/areas.ts';
import type { LayoutLoad } from './$types';

/** Merges the staff area's strings (builder, dashboards, decisions) into the page's dictionary. */
export const load = withArea('staff', 'openCount') satisfies LayoutLoad;
