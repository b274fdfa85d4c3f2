// The door app's service worker: the page and its files load with no network after the first visit.
// Network first (every file is served no-cache with an ETag, so a new deployment is taken at the next
// load), this cache when the network fails. API requests are never cached: they pass straight through.
const CACHE = "door-app";
const FILES = [
  "./",
  "app.js",
  "app.css",
  "codes.js",
  "store.js",
  "jsqr-1.4.0.js",
  "ed25519-3.2.0.js",
  "manifest.webmanifest",
  "icon.svg",
];
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request, { cache: "no-cache" });
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  event.respondWith(networkFirst(event.request));
});
