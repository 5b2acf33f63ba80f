// Renders the app's icons (public/icons/*.png) from the speech-bubble mark of
// public/favicon.svg with Debian's Chromium: no download, no image library.
// Run `node scripts/icons.mjs` after changing the mark; the PNGs are committed.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const bubble = 'M9 10h14a3 3 0 0 1 3 3v6a3 3 0 0 1-3 3h-8l-5 4v-4H9a3 3 0 0 1-3-3v-6a3 3 0 0 1 3-3z';
const teal = '#0f766e';

// name, size, svg: "any" icons are the rounded square; the maskable one fills
// the square (the platform cuts its own shape) with the mark inside the
// central 80% safe zone; the badge is the white mark alone (Android tints it).
const icons = [
  ['icon-192.png', 192, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="${teal}"/><path d="${bubble}" fill="#fff"/></svg>`],
  ['icon-512.png', 512, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="${teal}"/><path d="${bubble}" fill="#fff"/></svg>`],
  ['maskable-512.png', 512, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="${teal}"/><g transform="translate(16 16) scale(0.72) translate(-16 -18)"><path d="${bubble}" fill="#fff"/></g></svg>`],
  ['apple-touch-icon.png', 180, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="${teal}"/><g transform="translate(16 16) scale(0.8) translate(-16 -18)"><path d="${bubble}" fill="#fff"/></g></svg>`],
  ['badge-96.png', 96, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="4 6 24 22"><path d="${bubble}" fill="#fff"/></svg>`],
];

mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ deviceScaleFactor: 1 });
for (const [name, size, svg] of icons) {
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`);
  await page.screenshot({ path: join(out, name), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
  console.log('wrote', name);
}
await browser.close();
