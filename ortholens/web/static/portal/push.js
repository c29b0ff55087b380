// The patient portal's "Enable notifications" prompt (seed 004 section 6): ask permission, register
// the service worker, subscribe with the server's VAPID key and send the subscription to
// POST /api/patient/push/subscribe (which upserts it by endpoint).
//
// Markup (no inline script: the Content-Security-Policy forbids it):
//   <section data-push-prompt hidden>
//     <p data-push-status>...</p>
//     <button type="button" data-push-enable data-vapid-key="{{ vapid_public_key }}"
//             data-csrf="{{ csrf_token }}">Enable notifications</button>
//   </section>
(() => {
  "use strict";

  const prompt = document.querySelector("[data-push-prompt]");
  if (!prompt) return;
  const button = prompt.querySelector("[data-push-enable]");
  const status = prompt.querySelector("[data-push-status]");
  if (!button) return;

  const SUBSCRIBE_URL = "/api/patient/push/subscribe";
  const WORKER_URL = "/sw.js";

  function csrfToken() {
    if (button.dataset.csrf) return button.dataset.csrf;
    try {
      // The portal layout puts the token in <body hx-headers> for htmx.
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch {
      return "";
    }
  }

  function say(message) {
    if (status) status.textContent = message;
  }

  function showEnabled() {
    button.hidden = true;
    say("Notifications are on. We will let you know when your practice reviews your photos or writes to you.");
  }

  function applicationServerKey() {
    const text = button.dataset.vapidKey || "";
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
    return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  }

  function sameKey(subscription, key) {
    const current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return true; // browsers that do not expose it: keep the subscription
    const bytes = new Uint8Array(current);
    return bytes.length === key.length && bytes.every((value, index) => value === key[index]);
  }

  async function save(subscription) {
    const json = subscription.toJSON();
    const response = await fetch(SUBSCRIBE_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": csrfToken(),
      },
      body: JSON.stringify({ endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } }),
    });
    if (!response.ok) {
      let detail = "";
      try {
        detail = (await response.json()).detail || "";
      } catch {
        detail = "";
      }
      if (response.status === 401) throw new Error("Your sign-in has expired. Reload the page to sign in again.");
      throw new Error(detail || `The server answered ${response.status}.`);
    }
  }

  // A subscription made with another key (the server's key changed) can never be delivered to.
  async function subscribe(registration) {
    const key = applicationServerKey();
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    return subscription || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }

  async function enable() {
    button.disabled = true;
    say("Turning on notifications…");
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say(
          permission === "denied"
            ? "Notifications are blocked for this site. Allow them in your browser's site settings to turn them on."
            : "Notifications stay off. You can turn them on any time.",
        );
        return;
      }
      await navigator.serviceWorker.register(WORKER_URL, { scope: "/" });
      const registration = await navigator.serviceWorker.ready;
      await save(await subscribe(registration));
      showEnabled();
    } catch (error) {
      say(error && error.message ? error.message : "Notifications could not be turned on. Try again.");
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
    if (!supported) {
      // iPhone and iPad offer Web Push only to a portal added to the Home Screen.
      if (/iPad|iPhone|iPod/.test(navigator.userAgent)) {
        prompt.hidden = false;
        button.hidden = true;
        say("To get notifications, add this portal to your Home Screen (Share, then Add to Home Screen) and open it from there.");
      }
      return;
    }
    prompt.hidden = false;
    button.addEventListener("click", enable);
    if (Notification.permission === "denied") {
      button.hidden = true;
      say("Notifications are blocked for this site. Allow them in your browser's site settings to turn them on.");
      return;
    }
    if (Notification.permission !== "granted") return;
    // Already allowed: keep the server's copy in step (it may have pruned an expired subscription).
    try {
      await navigator.serviceWorker.register(WORKER_URL, { scope: "/" });
      const registration = await navigator.serviceWorker.ready;
      await save(await subscribe(registration));
      showEnabled();
    } catch {
      // Leave the button: the patient can try again and see the reason.
    }
  }

  start();
})();
