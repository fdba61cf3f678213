import { builderData, saveDraft } from '$lib/server/builder.ts';
import { emptyDraft } from '$lib/builder.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async () => ({ ...builderData(), draft: emptyDraft(Date.now()) })) satisfies PageServerLoad;

export const actions = { default: (event) => saveDraft(event, null) } satisfies Actions;
