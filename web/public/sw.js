// Parley's service worker (served from /sw.js, scope /): the offline shell,
// Web Push notifications and what clicking one does. Plain script, no
// imports: the app's Content-Security-Policy (script-src 'self') applies.
//
// Offline shell: pages (navigations) come from the network, and from the
// cached app shell when the network fails; the content-hashed files under
// /assets/ are cached as they are fetched (the page also hands the ones it
// loaded before this worker took over: see src/lib/pwa.ts). Nothing under
// /api/ is ever cached.
//
// Push payload (JSON, docs/protocol.md "Push payload"): {type, title, body,
// tag, conversation_id, url, badge, timestamp, …}; every field is optional
// here. A call (type "call") stays up until acted on.
const SHELL_CACHE = 'parley-shell-v1';
const SHELL = ['/', '/manifest.webmanifest', '/favicon.svg', '/icons/icon-192.png', '/icons/badge-96.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('parley-') && k !== SHELL_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz' || url.pathname === '/readyz' || url.pathname === '/metrics') return;
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req)
        .then((res) => {
          // Keep the newest shell: index.html names the current assets.
          if (res.ok && res.headers.get('Content-Type')?.startsWith('text/html')) {
            const copy = res.clone();
            void caches.open(SHELL_CACHE).then((c) => c.put('/', copy));
          }
          return res;
        })
        .catch(() => caches.match('/').then((r) => r || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              void caches.open(SHELL_CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
    return;
  }
  if (SHELL.includes(url.pathname)) {
    // Small unhashed files: the network when it answers, else the copy.
    event.respondWith(fetch(req).catch(() => caches.match(req).then((r) => r || Response.error())));
  }
});

/** appPath is a same-origin path to open, from a payload's url or conversation. */
function appPath(data) {
  if (typeof data.url === 'string') {
    try {
      const u = new URL(data.url, self.location.origin);
      if (u.origin === self.location.origin) return u.pathname + u.search;
    } catch {
      /* not a URL: fall through */
    }
  }
  return Number.isInteger(data.conversation_id) && data.conversation_id > 0 ? `/c/${data.conversation_id}` : '/';
}

/** pushData is a push message's JSON object ({} without one; text as the body). */
function pushData(event) {
  if (!event.data) return {};
  try {
    const d = event.data.json();
    return d && typeof d === 'object' ? d : {};
  } catch {
    return { body: event.data.text() };
  }
}

self.addEventListener('push', (event) => {
  const data = pushData(event);
  const id = Number.isInteger(data.conversation_id) ? data.conversation_id : undefined;
  const tag = typeof data.tag === 'string' && data.tag ? data.tag : id ? `conversation-${id}` : 'parley';
  const jobs = [
    self.registration.showNotification(typeof data.title === 'string' && data.title ? data.title : 'Parley', {
      body: typeof data.body === 'string' ? data.body : 'New message',
      tag,
      // A newer push for the same conversation replaces the shown one and alerts again.
      renotify: true,
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
      requireInteraction: data.type === 'call',
      timestamp: typeof data.timestamp === 'number' ? data.timestamp : undefined,
      data: { path: appPath(data), conversation_id: id },
    }),
  ];
  if (typeof data.badge === 'number' && 'setAppBadge' in self.navigator) jobs.push(self.navigator.setAppBadge(data.badge).catch(() => {}));
  event.waitUntil(Promise.all(jobs));
});

// Clicking a notification focuses a tab of the app (showing the
// conversation, without reloading it) or opens the app there.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.path) || '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(async (windows) => {
      const target = new URL(path, self.location.origin).href;
      const tab = windows.find((w) => w.url === target) || windows.find((w) => w.focused) || windows[0];
      if (tab) {
        await tab.focus().catch(() => {});
        tab.postMessage({ type: 'parley:open', path });
        return;
      }
      await self.clients.openWindow(path);
    }),
  );
});
