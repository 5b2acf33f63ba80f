// The installable app: registers the service worker (public/sw.js: offline
// shell, Web Push, notification clicks) and follows what it asks of the page.
import { navigate } from './router';

const SHELL_CACHE = 'parley-shell-v1';

/**
 * registerServiceWorker registers /sw.js (production builds only: the dev
 * server has no /sw.js) and, once it is active, hands it the app files this
 * page loaded before it took over, so the offline shell has them.
 */
export function registerServiceWorker() {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const sw = navigator.serviceWorker;
  // A notification clicked while this tab is open: show that conversation.
  sw.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: string; path?: string } | null;
    if (d?.type === 'parley:open' && typeof d.path === 'string' && d.path.startsWith('/')) navigate(d.path);
  });
  sw.startMessages();
  sw.register('/sw.js', { scope: '/' }).then(
    () => sw.ready.then(cacheLoadedAssets),
    (e) => console.warn('service worker not registered', e),
  );
}

async function cacheLoadedAssets() {
  if (!('caches' in window)) return;
  const assets = performance
    .getEntriesByType('resource')
    .map((r) => new URL(r.name))
    .filter((u) => u.origin === window.location.origin && u.pathname.startsWith('/assets/'))
    .map((u) => u.pathname);
  if (assets.length === 0) return;
  try {
    const cache = await caches.open(SHELL_CACHE);
    const missing = (await Promise.all(assets.map(async (a) => ((await cache.match(a)) ? null : a)))).filter((a): a is string => a !== null);
    await cache.addAll(missing);
  } catch {
    /* the shell works without them; they are cached when next fetched */
  }
}
