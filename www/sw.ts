// The service worker: keeps a copy of the app (never of the user's files:
// they are read with the File API and never fetched) so that the page loads
// and works offline once it has been loaded.
//
// Network first, cache second: while the server is reachable every load gets
// the current build (no stale builds in development); when it is not, the
// cached copy answers. The cache is named after a hash of the build
// (scripts/build.mjs), and caches of other builds are deleted on activation.
// Only same-origin GET requests are handled; nothing else is ever fetched.

declare const __BUILD__: string;
declare const __FILES__: string[];

interface ExtendableEventLike extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  request: Request;
  respondWith(r: Promise<Response>): void;
}
interface ServiceWorkerScopeLike {
  addEventListener(type: 'install' | 'activate', fn: (ev: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', fn: (ev: FetchEventLike) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
}

const sw = self as unknown as ServiceWorkerScopeLike;
const CACHE = `voxdrop-${__BUILD__}`;

sw.addEventListener('install', (ev) => {
  ev.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(__FILES__.map((f) => new Request(f, { cache: 'no-cache' }))))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (ev) => {
  ev.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('voxdrop-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('fetch', (ev) => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== sw.location.origin) return;
  ev.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && res.type === 'basic') {
          const copy = res.clone();
          void caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })
      .catch(async () => {
        const hit = (await caches.match(req, { cacheName: CACHE })) ?? (await caches.match(req, { ignoreSearch: true }));
        if (hit) return hit;
        // A navigation to any path of the app gets the app.
        if (req.mode === 'navigate') {
          const index = await caches.match('index.html', { cacheName: CACHE });
          if (index) return index;
        }
        return new Response('offline and not cached', { status: 503, headers: { 'Content-Type': 'text/plain' } });
      }),
  );
});
