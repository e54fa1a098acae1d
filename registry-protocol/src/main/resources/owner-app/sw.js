// Keeps the app's own files for offline starts; never the registry's answers (/v1/), which must be live.
const CACHE = 'hearth-owner-app-v2';
const FILES = ['/', '/app.css', '/app.js', '/pairing.js', '/settings.js', '/manifest.webmanifest', '/icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/v1/')) {
    return;
  }
  // Network first, so a new version shows at once; the cached copy when offline.
  event.respondWith(fetch(event.request).catch(() => caches.match(url.pathname === '/pair' ? '/' : event.request)));
});
