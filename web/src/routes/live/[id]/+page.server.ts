import QRCode from 'qrcode';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { PageServerLoad } from './$types';

/** Public projector view: the QR code is rendered here as SVG markup, so no QR code ships to the browser. */
export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const r = await serverApi(event)<PollView>(`/polls/${id}`);
  if (!r.ok) failLoad(r);
  const pollUrl = `${event.url.origin}/polls/${id}`;
  const qr = await QRCode.toString(pollUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } });
  return { poll: r.data.poll, results: r.data.results, pollUrl, qr };
}) satisfies PageServerLoad;
