// The review screen: open a photo large in a dialog (with a 2x zoom toggle), and show that a slow
// form (the AI suggestion) is working. Loaded as a file: the Content-Security-Policy allows no
// inline script. Without JavaScript a photo link simply opens the photo.
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
