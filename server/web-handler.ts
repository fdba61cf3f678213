import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import { MAX_PHOTOS, MAX_PHOTO_BYTES } from '../shared/values/city.ts';

export const WEB_BUILD_DIR = join(fileURLToPath(new URL('..', import.meta.url)), 'web', 'build');

/** Private header carrying Express's view of the request protocol to the SvelteKit handler. */
const PROTO_HEADER = 'x-ac-web-proto';

/**
 * The built SvelteKit app (adapter-node's handler), or null when it has not been built.
 * adapter-node learns the protocol only from the header named by its PROTOCOL_HEADER env var and
 * otherwise assumes https, so over plain http every form POST failed SvelteKit's origin check (403) and
 * `event.url.origin` was wrong. Express knows the protocol (`req.protocol`, honouring TRUST_PROXY): pass it on.
 */
export async function loadWebHandler(): Promise<RequestHandler | null> {
  const file = join(WEB_BUILD_DIR, 'handler.js');
  if (!existsSync(file)) return null;
  process.env.PROTOCOL_HEADER ??= PROTO_HEADER; // read once by adapter-node when the handler module loads
  // Our City's forms post their photos through the page's form action (it works without JavaScript), and
  // adapter-node refuses bodies over 512 KB by default: allow a full set of photos plus the text fields.
  process.env.BODY_SIZE_LIMIT ??= String(MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024);
  const mod = (await import(pathToFileURL(file).href)) as { handler: RequestHandler };
  return (req, res, next) => {
    req.headers[PROTO_HEADER] = req.protocol;
    mod.handler(req, res, next);
  };
}
