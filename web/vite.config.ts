/// <reference types="vitest/config" />
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

/**
 * precompress writes name.br and name.gz beside every text file of the build
 * (when smaller), so the server (embed.go) sends them without compressing
 * per request. Brotli at quality 11 and gzip at level 9: done once per build.
 */
function precompress(): Plugin {
  const compressible = /\.(js|mjs|css|html|svg|json|webmanifest|txt|xml|map)$/;
  let outDir = '';
  return {
    name: 'parley-precompress',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
      for (const file of walk(outDir)) {
        if (!compressible.test(file)) continue;
        const raw = readFileSync(file);
        if (raw.length < 256) continue;
        const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
        const gz = gzipSync(raw, { level: 9 });
        if (br.length < raw.length) writeFileSync(file + '.br', br);
        if (gz.length < raw.length) writeFileSync(file + '.gz', gz);
      }
    },
  };
}

/**
 * emojiData serves `virtual:emoji-data`: the emoji the picker offers, built
 * from emojibase-data at build time into a compact module (the picker loads
 * it as its own chunk, from this server: no CDN, works offline). Only emoji
 * up to Unicode Emoji 15.0 (what Debian's Noto Color Emoji draws), without
 * skin-tone variants and components.
 */
function emojiData(): Plugin {
  const id = 'virtual:emoji-data';
  return {
    name: 'parley-emoji-data',
    resolveId: (source) => (source === id ? '\0' + id : undefined),
    load(resolved) {
      if (resolved !== '\0' + id) return;
      const require = createRequire(import.meta.url);
      const data = require('emojibase-data/en/data.json') as { emoji: string; label: string; tags?: string[]; group?: number; order?: number; version: number }[];
      const messages = require('emojibase-data/en/messages.json') as { groups: { key: string; message: string; order: number }[] };
      const groups = messages.groups.filter((g) => g.key !== 'component').map((g) => ({ key: g.key, name: g.message[0].toUpperCase() + g.message.slice(1), order: g.order, emoji: [] as [string, string, string][] }));
      for (const e of [...data].sort((a, b) => (a.order ?? 0) - (b.order ?? 0))) {
        const g = groups.find((x) => x.order === e.group);
        if (!g || e.version > 15) continue;
        g.emoji.push([e.emoji, e.label, (e.tags ?? []).join(' ')]);
      }
      return `export default ${JSON.stringify(groups.map(({ key, name, emoji }) => ({ key, name, emoji })))};`;
    },
  };
}

// The Go server to proxy to in `npm run dev` (start it with
// `go run ./cmd/parley serve --addr 127.0.0.1:8080 --allowed-origins http://localhost:5173`).
const api = process.env.PARLEY_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss(), emojiData(), precompress()],
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
