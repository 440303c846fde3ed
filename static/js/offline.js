/* Offline: registers the service worker (sw.js) and keeps the network banner of base.html
   true on every page, also after htmx swaps the body. A page the worker served from its
   store carries data-saved (when it was saved) on the banner. Its texts come from the
   banner's data attributes, in the page's language. Written for old phones (ES5). */
(function () {
  "use strict";
  var BACK_FOR_MS = 4000;
  var state = ""; // "offline", "back" (briefly, once the network returns) or ""
  var backTimer = null;

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" })["catch"](function () {});
    });
  }

  function banner() { return document.getElementById("net-banner"); }

  function savedText(el, iso) {
    var when = new Date(iso);
    var lang = document.documentElement.lang || undefined;
    return el.getAttribute("data-saved-text")
      .replace("{date}", when.toLocaleDateString(lang, { day: "numeric", month: "short" }))
      .replace("{time}", when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }));
  }

  function render() {
    var el = banner();
    if (!el) return;
    var saved = el.getAttribute("data-saved");
    var text = "";
    if (state === "offline") text = saved ? savedText(el, saved) : el.getAttribute("data-offline");
    else if (state === "back") text = el.getAttribute("data-online");
    el.className = "net-banner" + (state ? " " + state : "");
    if (el.textContent !== text) el.textContent = text;
  }

  function goOffline() {
    clearTimeout(backTimer);
    state = "offline";
    render();
  }

  function comeBack() {
    if (state !== "offline") return;
    state = "back";
    render();
    clearTimeout(backTimer);
    backTimer = setTimeout(function () { state = ""; render(); }, BACK_FOR_MS);
  }

  // A page from the worker (a saved copy, or the page for one never seen) means the network
  // failed, whatever navigator.onLine says.
  function onPage() {
    var el = banner();
    if ((el && el.getAttribute("data-saved")) || document.getElementById("offline-page")) goOffline();
    else if (navigator.onLine === false) goOffline();
    else if (state === "offline") comeBack();
    else render();
  }

  window.addEventListener("offline", goOffline);
  window.addEventListener("online", comeBack);
  document.addEventListener("htmx:afterSettle", onPage);
  onPage();
})();
