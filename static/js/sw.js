/* Parta's service worker (served at /sw.js, which puts self.PARTA_OFFLINE in front of it).

   Pages: network first; each page seen is kept, and without a network the kept copy is
   served with the time it was saved (offline.js shows it), or the offline page for a page
   never seen. htmx's boosted and history requests are pages too. One person's pages at a
   time: a sign-in or sign-out, or a page that says it is someone else's, forgets them.
   Static files have hashed names (?v=): kept, served from the cache.
   Socket.IO and every non-GET request go to the network untouched: what is written
   offline in a chat waits in chat.js's outbox, which sends it once when the socket is back. */
"use strict";

var SETTINGS = self.PARTA_OFFLINE;
var STATIC = "parta-static-" + SETTINGS.version;
var PAGES = "parta-pages-"; // + the viewer (X-Parta-Viewer): whose pages they are
var MAX_PAGES = 150;
var SIGN_IN_OR_OUT = /^\/auth\/|\/sign-out$/;
var BANNER = 'id="net-banner"';

self.addEventListener("install", function (event) {
  event.waitUntil(precache().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf("parta-static-") === 0 && name !== STATIC;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
      .then(keepOpenPages)
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/socket.io/") === 0) return;
  if (request.method !== "GET") {
    // Seen, not handled: the pages go before the next person can open them offline.
    if (SIGN_IN_OR_OUT.test(url.pathname)) event.waitUntil(forgetPages());
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 && url.searchParams.has("v")) {
    event.respondWith(staticFile(event));
  } else if (isPage(request)) {
    event.respondWith(page(event));
  }
});

function isPage(request) {
  return request.mode === "navigate" ||
    request.headers.get("HX-Boosted") === "true" ||
    request.headers.get("HX-History-Restore-Request") === "true";
}

// Static files ------------------------------------------------------------------------

function precache() {
  // Files whose hash has not changed come over from the previous version's cache.
  return caches.open(STATIC).then(function (cache) {
    return Promise.all(SETTINGS.shell.map(function (url) {
      return caches.match(url).then(function (kept) { return kept ? cache.put(url, kept) : cache.add(url); });
    })).then(function () { return cache.add(SETTINGS.offline); });
  });
}

function staticFile(event) {
  var request = event.request;
  return caches.open(STATIC).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (kept) {
      if (kept) return kept;
      return fetch(request).then(function (response) {
        if (response.status === 200) event.waitUntil(cache.put(request, response.clone()));
        return response;
      }, function () {
        // A page saved before a deploy names files by their old hash: give today's file.
        return cache.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (today) {
          return today || Response.error();
        });
      });
    });
  });
}

// Pages -------------------------------------------------------------------------------

function page(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    event.waitUntil(keepPage(request.url, response.clone()));
    return response;
  }, function () {
    return savedPage(request.url).then(function (saved) {
      return saved || caches.open(STATIC).then(function (cache) {
        return cache.match(SETTINGS.offline);
      }).then(function (fallback) {
        // A new response, without the fallback's own URL: htmx shows the URL asked for.
        return fallback ? new Response(fallback.body, { headers: fallback.headers }) : Response.error();
      });
    });
  });
}

function keepPage(url, response) {
  var viewer = response.headers.get("X-Parta-Viewer");
  var type = response.headers.get("Content-Type") || "";
  var cacheControl = response.headers.get("Cache-Control") || "";
  if (response.status !== 200 || viewer === null || type.indexOf("text/html") !== 0 ||
      cacheControl.indexOf("no-store") !== -1) {
    return Promise.resolve();
  }
  // A link followed through a redirect (e.g. "My school" to the one school) is kept under both.
  var urls = response.url && response.url !== url ? [url, response.url] : [url];
  return response.text().then(function (html) {
    return forgetPages(viewer).then(function () { return caches.open(PAGES + viewer); }).then(function (cache) {
      return Promise.all(urls.map(function (each) {
        var copy = new Response(html, {
          headers: { "Content-Type": type, "X-Parta-Saved": new Date().toISOString() }
        });
        return cache.put(each, copy);
      })).then(function () { return trim(cache); });
    });
  });
}

function savedPage(url) {
  return pagesCaches().then(function (names) {
    if (!names.length) return undefined;
    return caches.open(names[0]).then(function (cache) { return cache.match(url); });
  }).then(function (kept) {
    if (!kept) return undefined;
    var saved = kept.headers.get("X-Parta-Saved");
    return kept.text().then(function (html) {
      return new Response(html.replace(BANNER, BANNER + ' data-saved="' + saved + '"'), {
        headers: { "Content-Type": kept.headers.get("Content-Type") }
      });
    });
  });
}

function pagesCaches() {
  return caches.keys().then(function (names) {
    return names.filter(function (name) { return name.indexOf(PAGES) === 0; });
  });
}

// Everyone's pages, or everyone's but the viewer's.
function forgetPages(viewer) {
  return pagesCaches().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== PAGES + viewer; })
      .map(function (name) { return caches.delete(name); }));
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (key) {
      return cache.delete(key);
    }));
  });
}

// The pages open when this worker takes over were loaded without it: keep them too.
function keepOpenPages() {
  return self.clients.matchAll({ type: "window" }).then(function (windows) {
    return Promise.all(windows.map(function (client) {
      var url = new URL(client.url);
      if (url.origin !== self.location.origin || url.pathname.indexOf("/static/") === 0) return undefined;
      url.hash = "";
      return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        return keepPage(url.href, response);
      }, function () { /* offline now: kept on the next visit */ });
    }));
  });
}
