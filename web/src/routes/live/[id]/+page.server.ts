import { error } from '@sveltejs/kit';
import QRCode from 'qrcode';
import { serverApi } from '$lib/server/api.ts';
import { toPollView } from '$lib/polls.ts';
import type { PollResults } from '$shared/polls.ts';
import type { PageServerLoad } from './$types';

/** Public projector view: the QR code is rendered here as SVG markup, so no QR code ships to the browser. */
export const load = (async (event) => {
  const id = Number(event.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) error(404, { message: 'not_found', code: 'not_found' });
  const r = await serverApi(event)<{ results?: PollResults | null }>(`/polls/${id}`);
  if (!r.ok) error(r.status === 400 ? 404 : r.status, { message: r.error.code, code: r.error.code });
  const pollUrl = `${event.url.origin}/polls/${id}`;
  const qr = await QRCode.toString(pollUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } });
  return { poll: toPollView(r.data), results: r.data.results ?? null, pollUrl, qr };
}) satisfies PageServerLoad;
