import type { Request } from 'express';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * The client's IP for rate limiting. With TRUST_PROXY, Express's `req.ip` (X-Forwarded-For as the proxy
 * set it). Without it, X-Forwarded-For is honoured only from a loopback peer — the SvelteKit handler in
 * this same process calls the API over loopback and forwards the browser's address that way; a remote
 * client cannot spoof it.
 */
export function clientIp(req: Request): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (req.ip && req.ip !== peer) return req.ip; // Express resolved a trusted proxy chain (TRUST_PROXY)
  const xff = req.headers['x-forwarded-for'];
  if (LOOPBACK.test(peer) && typeof xff === 'string' && xff.trim()) {
    const last = xff.split(',').pop()!.trim();
    if (/^[0-9a-fA-F.:]{2,45}$/.test(last)) return last;
  }
  return peer;
}
