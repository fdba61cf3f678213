import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// In development (`npm run dev`) the API and Socket.IO run on the Express server; vite proxies to it.
const api = `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;

export default defineConfig({
  plugins: [sveltekit()],
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
