/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// The Go server to proxy to in `npm run dev` (start it with
// `go run ./cmd/parley serve --addr 127.0.0.1:8080 --allowed-origins http://localhost:5173`).
const api = process.env.PARLEY_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    // The build goes to dist/app so that it never overwrites the committed
    // placeholder dist/index.html; embed.go serves dist/app when it exists.
    outDir: 'dist/app',
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  server: {
    proxy: {
      '/api': { target: api, ws: true, changeOrigin: false },
      '/healthz': { target: api },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
