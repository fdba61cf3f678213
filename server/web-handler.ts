import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { RequestHandler } from 'express';

export const WEB_BUILD_DIR = join(fileURLToPath(new URL('..', import.meta.url)), 'web', 'build');

/** The built SvelteKit app (adapter-node's handler), or null when it has not been built. */
export async function loadWebHandler(): Promise<RequestHandler | null> {
  const file = join(WEB_BUILD_DIR, 'handler.js');
  if (!existsSync(file)) return null;
  const mod = (await import(pathToFileURL(file).href)) as { handler: RequestHandler };
  return mod.handler;
}
