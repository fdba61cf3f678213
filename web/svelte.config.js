import adapter from '@sveltejs/adapter-node';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    adapter: adapter({ out: 'build', precompress: true }),
    alias: { $shared: '../shared' },
    // CSRF for the API is enforced by the Express origin check; SvelteKit's own form check stays on.
    csrf: { trustedOrigins: [] },
  },
  compilerOptions: { runes: true },
};
export default config;
