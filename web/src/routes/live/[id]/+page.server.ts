import QRCode from 'qrcode';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { PageServerLoad } from './$types';

/**
 * Public projector view: the QR code is rendered here as SVG markup, so no QR code ships to the browser.
 * The join code is the poll's number: typed after the short address (`/p/<code>`) it opens the poll.
 */
export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const r = await serverApi(event)<PollView>(`/polls/${id}`);
  if (!r.ok) failLoad(r);
  const shortUrl = `${event.url.host}/p/${id}`;
  const qr = await QRCode.toString(`${event.url.origin}/polls/${id}`, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } });
  return { poll: r.data.poll, results: r.data.results, withheld: r.data.withheld, code: String(id), shortUrl, qr };
}) satisfies PageServerLoad;
