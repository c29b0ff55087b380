// The review screen: zoom (wheel, pinch, + / - / 0) and pan (drag) a photo in step with the other
// photo of its view, open a photo large in a dialog, keyboard shortcuts for the tag form, and show
// that a slow form (the AI suggestion) is working. Loaded as a file: the Content-Security-Policy
// allows no inline script. Without JavaScript the photos show whole and the form works as usual.
(() => {
  "use strict";

  const dialog = document.getElementById("zoom");
  if (dialog && typeof dialog.showModal === "function") {
    const img = dialog.querySelector("[data-zoom-img]");
    const title = dialog.querySelector("[data-zoom-title]");
    const toggle = dialog.querySelector("[data-zoom-toggle]");
    const toggleLabel = toggle.querySelector("span");

    function setZoomed(zoomed) {
      dialog.classList.toggle("zoom--in", zoomed);
      toggle.setAttribute("aria-pressed", String(zoomed));
      toggleLabel.textContent = zoomed ? "Zoom out" : "Zoom in";
    }

    document.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-zoom]");
      if (!link) return;
      event.preventDefault();
      img.src = link.href;
      img.alt = link.dataset.zoomCaption || "";
      title.textContent = link.dataset.zoomCaption || "";
      setZoomed(false);
      dialog.showModal();
    });
    toggle.addEventListener("click", () => setZoomed(!dialog.classList.contains("zoom--in")));
    img.addEventListener("click", () => setZoomed(!dialog.classList.contains("zoom--in")));
    dialog.querySelector("[data-zoom-close]").addEventListener("click", () => dialog.close());
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("close", () => {
      img.removeAttribute("src");
      setZoomed(false);
    });
  }

  // ---- Synchronized zoom and pan ----------------------------------------------------------------
  // Every [data-pz-group] holds the frames ([data-pz]) of one view; they share one transform in
  // fractions of the frame (scale s, offset x, y), so photos of different sizes move together.
  const MAX_SCALE = 8;
  const groups = new Map();

  function stateOf(group) {
    if (!groups.has(group)) groups.set(group, { s: 1, x: 0, y: 0 });
    return groups.get(group);
  }

  function clamp(state) {
    state.s = Math.min(MAX_SCALE, Math.max(1, state.s));
    // The photo always covers the frame: offsets between (1 - s) and 0 of its size.
    state.x = Math.min(0, Math.max(1 - state.s, state.x));
    state.y = Math.min(0, Math.max(1 - state.s, state.y));
  }

  function paint(group) {
    const state = stateOf(group);
    group.querySelectorAll("[data-pz]").forEach((frame) => {
      const img = frame.querySelector("[data-pz-img]");
      const { width, height } = frame.getBoundingClientRect();
      img.style.transform = `translate(${state.x * width}px, ${state.y * height}px) scale(${state.s})`;
      frame.classList.toggle("is-zoomed", state.s > 1);
    });
    group.dataset.zoom = state.s.toFixed(2);
  }

  // Zoom by `factor` around the point (fx, fy), in fractions of the frame.
  function zoomAt(group, factor, fx = 0.5, fy = 0.5) {
    const state = stateOf(group);
    const next = Math.min(MAX_SCALE, Math.max(1, state.s * factor));
    const ratio = next / state.s;
    state.x = fx - (fx - state.x) * ratio;
    state.y = fy - (fy - state.y) * ratio;
    state.s = next;
    clamp(state);
    paint(group);
  }

  function reset(group) {
    groups.set(group, { s: 1, x: 0, y: 0 });
    paint(group);
  }

  function fraction(frame, clientX, clientY) {
    const box = frame.getBoundingClientRect();
    return [(clientX - box.left) / box.width, (clientY - box.top) / box.height];
  }

  document.querySelectorAll("[data-pz]").forEach((frame) => {
    const group = frame.closest("[data-pz-group]");
    if (!group) return;
    const pointers = new Map();
    let pinchStart = null;

    frame.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const [fx, fy] = fraction(frame, event.clientX, event.clientY);
        zoomAt(group, Math.exp(-event.deltaY * 0.002), fx, fy);
      },
      { passive: false },
    );
    frame.addEventListener("pointerdown", (event) => {
      frame.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 1) frame.classList.add("is-dragging");
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinchStart = { distance: Math.hypot(a.x - b.x, a.y - b.y), scale: stateOf(group).s };
      }
    });
    frame.addEventListener("pointermove", (event) => {
      const last = pointers.get(event.pointerId);
      if (!last) return;
      const now = { x: event.clientX, y: event.clientY };
      pointers.set(event.pointerId, now);
      const box = frame.getBoundingClientRect();
      if (pointers.size === 1) {
        const state = stateOf(group);
        state.x += (now.x - last.x) / box.width;
        state.y += (now.y - last.y) / box.height;
        clamp(state);
        paint(group);
      } else if (pointers.size === 2 && pinchStart) {
        const [a, b] = [...pointers.values()];
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        const [fx, fy] = fraction(frame, (a.x + b.x) / 2, (a.y + b.y) / 2);
        const target = (pinchStart.scale * distance) / pinchStart.distance;
        zoomAt(group, target / stateOf(group).s, fx, fy);
      }
    });
    const release = (event) => {
      pointers.delete(event.pointerId);
      if (pointers.size < 2) pinchStart = null;
      if (pointers.size === 0) frame.classList.remove("is-dragging");
    };
    frame.addEventListener("pointerup", release);
    frame.addEventListener("pointercancel", release);
    frame.addEventListener("dblclick", () => reset(group));
  });
  window.addEventListener("resize", () => groups.forEach((_, group) => paint(group)));

  // ---- Keyboard shortcuts ------------------------------------------------------------------------
  // 1 2 3 overall tracking, g f p oral hygiene, s submit and next, a ask the AI,
  // + - 0 zoom the focused view (else the first one). Never while typing in a field.
  const form = document.getElementById("review-form");
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input[type=text], input:not([type]), textarea, select, [contenteditable]")) return;
    if (document.querySelector("dialog[open]")) return;
    const key = event.key.toLowerCase();
    if (form) {
      const choice = form.querySelector(`input[type=radio][data-key="${CSS.escape(key)}"]`);
      if (choice) {
        event.preventDefault();
        choice.checked = true;
        choice.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
      if (key === "s") {
        event.preventDefault();
        form.requestSubmit(form.querySelector("[data-submit-next]"));
        return;
      }
      if (key === "a") {
        const suggest = document.getElementById("suggest-form");
        if (suggest) {
          event.preventDefault();
          suggest.requestSubmit();
        }
        return;
      }
    }
    const next = document.querySelector("[data-next-link]");
    if (next && (key === "n" || key === "s")) {
      event.preventDefault();
      window.location.assign(next.href);
      return;
    }
    const focused = document.activeElement?.closest?.("[data-pz-group]");
    const group = focused || document.querySelector("[data-pz-group]");
    if (!group) return;
    if (key === "+" || key === "=") zoomAt(group, 1.5);
    else if (key === "-") zoomAt(group, 1 / 1.5);
    else if (key === "0") reset(group);
    else return;
    event.preventDefault();
  });

  // <form data-busy-form>: disable the button and say what is happening while the page loads.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-busy-form]");
    if (!form) return;
    const button = form.querySelector("[data-busy-label]");
    if (!button) return;
    const label = button.querySelector("span") || button;
    // Disable after the submit has been dispatched, or the browser would drop the submission.
    window.setTimeout(() => {
      button.disabled = true;
      label.textContent = button.dataset.busyLabel;
    }, 0);
  });
})();
