// The patient portal's service worker: shows Web Push notifications and opens the page they point
// to when tapped. Served at /sw.js (scope "/"). It has no fetch handler: pages always come from the
// network, so nothing about a patient is ever cached on the device.
/* global self, clients */
"use strict";

const DEFAULT_URL = "/portal";
const ICON = "/static/img/icon.svg";

// Only our own pages may be opened from a notification, whatever a message says.
function sameOriginUrl(value) {
  try {
    const url = new URL(value || DEFAULT_URL, self.location.origin);
    return url.origin === self.location.origin ? url.href : new URL(DEFAULT_URL, self.location.origin).href;
  } catch {
    return new URL(DEFAULT_URL, self.location.origin).href;
  }
}

function readMessage(event) {
  if (!event.data) return {};
  try {
    const message = event.data.json();
    return message && typeof message === "object" ? message : {};
  } catch {
    return { body: event.data.text() };
  }
}

self.addEventListener("install", () => {
  // Nothing to cache: take over from an older version straight away.
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", (event) => {
  const message = readMessage(event);
  const title = typeof message.title === "string" && message.title ? message.title : "OrthoLens";
  const options = {
    body: typeof message.body === "string" ? message.body : "",
    icon: ICON,
    data: { url: sameOriginUrl(message.url) },
  };
  if (typeof message.tag === "string" && message.tag) {
    options.tag = message.tag;
    options.renotify = true; // a newer message with the same tag still alerts
  }
  // Browsers require every push to show a notification (userVisibleOnly): always show one.
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await clients.matchAll({ type: "window", includeUncontrolled: true });
      // Prefer a portal window already showing the target, then any portal window.
      const exact = windows.find((client) => client.url === target);
      if (exact) return exact.focus();
      const portal = windows.find((client) => new URL(client.url).pathname.startsWith("/portal"));
      if (portal) {
        try {
          // navigate() works only on a window this worker controls; others reject.
          const moved = await portal.navigate(target);
          if (moved) return moved.focus();
        } catch {
          // fall through to a new window
        }
      }
      return clients.openWindow(target);
    })(),
  );
});
