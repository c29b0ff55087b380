// OrthoLens pages: small behaviours the markup asks for with data attributes. Loaded as a file
// because the Content-Security-Policy allows no inline script. Delegated from the document, so
// content swapped in by htmx works too.
(() => {
  "use strict";

  // <button data-copy="#input-id">: copy the input's value to the clipboard.
  async function copyFrom(button) {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const text = source.value ?? source.textContent;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // Clipboard API unavailable (e.g. an insecure origin): select the text for Ctrl/Cmd+C.
      source.focus();
      if (typeof source.select === "function") source.select();
    }
    const label = button.querySelector("[data-copy-label]") || button;
    const original = label.dataset.original || label.textContent;
    label.dataset.original = original;
    label.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
    button.classList.toggle("is-copied", copied);
    window.setTimeout(() => {
      label.textContent = original;
      button.classList.remove("is-copied");
    }, 2000);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (button) {
      event.preventDefault();
      copyFrom(button);
    }
  });

  // <button data-confirm="Question?"> inside a form: ask before submitting.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // A readonly link field selects itself on focus, ready to copy by hand.
  document.addEventListener("focusin", (event) => {
    if (event.target.matches?.(".copy-field__input")) event.target.select();
  });
})();
