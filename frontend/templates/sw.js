// The service worker, rendered by routers/pwa.py with this release's paths (a new release
// changes this file, so browsers install it and it drops the old release's caches).
//
// - The list page: network first. Each successful answer is kept (per URL: the filters are
//   in the query); when the network fails, the last one kept is shown, marked
//   <html data-offline> so offline.js makes it read-only and says so.
// - Versioned static files (/static/<version>/…): cache first; they never change.
// - Nothing else is touched: the JSON API and every other page always go to the server.
// - Visiting the login page or logging out empties the page cache, so the next person
//   on this browser never sees the last one's list.
const STATIC_PREFIX = {{ static_url("")|tojson }};
const SHELL = [{% for path in shell %}{{ static_url(path)|tojson }}{{ ", " if not loop.last }}{% endfor %}];
const LIST_PAGES = [{{ url("todo_page")|tojson }}];
const SIGNED_OUT_PAGES = [{{ url("login_page")|tojson }}, {{ url("logout_page")|tojson }}];
const STATIC_CACHE = `static ${STATIC_PREFIX}`;
const PAGE_CACHE = `pages ${STATIC_PREFIX}`;
const MAX_PAGES = 20; // list URLs kept (each filter and page of the list is one)

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== STATIC_CACHE && name !== PAGE_CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

// A page that loaded before this worker controlled it asks for its copy to be kept.
self.addEventListener("message", (event) => {
  const url = event.data && event.data.keep;
  if (typeof url === "string" && isListPage(new URL(url))) {
    event.waitUntil(fetch(url, { credentials: "same-origin" }).then((response) => keep(url, response)));
  }
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (SIGNED_OUT_PAGES.includes(url.pathname)) {
    event.waitUntil(caches.delete(PAGE_CACHE));
  } else if (request.method === "GET" && url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request));
  } else if (request.method === "GET" && request.mode === "navigate" && isListPage(url)) {
    event.respondWith(networkFirst(request));
  }
});

function isListPage(url) {
  return url.origin === self.location.origin && LIST_PAGES.includes(url.pathname);
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request);
  if (hit) {
    return hit;
  }
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const kept = await caches.match(request.url, { cacheName: PAGE_CACHE, ignoreVary: true });
    if (!kept) {
      throw error; // nothing kept: the browser's own offline page
    }
    return markedOffline(kept);
  }
  await keep(request.url, response.clone());
  return response;
}

/** Keep the list page's answer when it is the page itself (not a redirect to the login). */
async function keep(url, response) {
  const type = response.headers.get("Content-Type") || "";
  if (!response.ok || response.redirected || response.type !== "basic" || !type.startsWith("text/html")) {
    return;
  }
  const cache = await caches.open(PAGE_CACHE);
  await cache.delete(url, { ignoreVary: true }); // the newest goes last: the oldest is dropped first
  await cache.put(url, response);
  const urls = await cache.keys();
  for (const old of urls.slice(0, Math.max(0, urls.length - MAX_PAGES))) {
    await cache.delete(old);
  }
}

/** The kept page, marked offline; its own headers (the CSP with them) but not its length. */
async function markedOffline(kept) {
  const html = await kept.text();
  const headers = new Headers(kept.headers);
  headers.delete("Content-Length");
  headers.delete("Content-Encoding");
  return new Response(html.replace("<html ", "<html data-offline "), { status: 200, headers });
}
