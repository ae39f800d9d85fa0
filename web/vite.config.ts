// Builds the web UI into dist/web, which the manager serves (server/modules/web-ui): hashed
// files under assets/ (cached for good), index.html naming them (asked again every time).
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: webDir,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    // The charts are only on the node page: their own chunk, loaded there.
    chunkSizeWarningLimit: 900,
  },
  server: {
    // `npx vite web` for UI work against a running manager (npm start): the API is proxied.
    proxy: { '/api': process.env.OPS_WEB_API ?? 'http://127.0.0.1:8440' },
  },
});
