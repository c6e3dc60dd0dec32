// Registers the service worker (templates/sw.js) and, on a copy of the list page that it
// served while offline (<html data-offline>), says so and makes the page read-only.
const root = document.documentElement;
const NOTICE = "Offline — showing your last-seen list; changes are disabled";

function readOnly() {
  const notice = document.createElement("p");
  notice.className = "alert alert-warning offline-notice";
  notice.setAttribute("role", "status");
  notice.textContent = NOTICE;
  document.getElementById("main").prepend(notice);
  // After every page script has run (module scripts run before DOMContentLoaded).
  document.addEventListener("DOMContentLoaded", () => {
    for (const control of document.querySelectorAll("button, input, select, textarea")) {
      control.disabled = true;
    }
  });
  // Back online: the real page again, with its controls.
  window.addEventListener("online", () => window.location.reload());
}

async function register(path) {
  const controlled = Boolean(navigator.serviceWorker.controller);
  await navigator.serviceWorker.register(path);
  if (!controlled) {
    // This page loaded before the worker controlled it: ask it to keep a copy now, in
    // case the next visit is offline. The worker keeps only list pages.
    const page = new URL(window.location.href);
    page.hash = "";
    (await navigator.serviceWorker.ready).active?.postMessage({ keep: page.href });
  }
}

if (root.hasAttribute("data-offline")) {
  readOnly();
} else if ("serviceWorker" in navigator && root.dataset.serviceWorker) {
  register(root.dataset.serviceWorker).catch(() => {
    // No worker (private mode, blocked storage): the app works as before, online only.
  });
}
