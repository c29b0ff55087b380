// Registers the portal's service worker (/sw.js, scope "/": it shows push notifications and opens
// the page a notification points to). The "Enable notifications" card (push.js) subscribes it.
// A browser without service workers, or one that refuses (e.g. a private window), keeps working:
// the portal needs no worker to run.
(() => {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });
})();
