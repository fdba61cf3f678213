import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

// In development (`npm run dev`) the API and Socket.IO run on the Express server; vite proxies to it.
const api = `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;

/**
 * The web app connects over WebSocket only (`transports: ['websocket']`), but engine.io-client's socket
 * imports its table of every transport and its index re-exports them all, so long-polling and
 * WebTransport would ship anyway. Serve the table with the WebSocket transport alone and mark the other
 * transports' modules free of side effects: the client bundle loses their code (the poll page has a
 * gzipped JavaScript budget, scripts/bundle-size.ts).
 */
function websocketOnlyEngine(): Plugin {
  const dir = /engine\.io-client\/build\/esm(-debug)?\/transports\//;
  const unused = /\/(polling|polling-xhr|polling-fetch|polling-xhr\.node|webtransport)\.js$/;
  return {
    name: 'engine-io-websocket-only',
    enforce: 'pre',
    load(id) {
      const file = id.split('?')[0];
      if (!dir.test(file)) return null;
      if (file.endsWith('/index.js')) return 'import { WS } from "./websocket.js";\nexport const transports = { websocket: WS };\n';
      return null;
    },
    transform(code, id) {
      const file = id.split('?')[0];
      if (dir.test(file) && unused.test(file)) return { code, map: null, moduleSideEffects: false };
      return null;
    },
  };
}

export default defineConfig({
  plugins: [websocketOnlyEngine(), sveltekit()],
  server: {
    port: Number(process.env.WEB_PORT ?? 5173),
    proxy: {
      '/api': api,
      '/healthz': api,
      '/socket.io': { target: api, ws: true },
    },
    fs: { allow: ['..'] },
  },
});
