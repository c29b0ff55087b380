// OrthoLens pages: small behaviours the markup asks for with data attributes. Loaded as a file
// because the Content-Security-Policy allows no inline script. Delegated from the document, so
// content swapped in by htmx works too.
(() => {
  "use strict";

  // Styles that need JavaScript (the collapsed phone menu) apply only when it runs.
  document.documentElement.classList.add("js");

  // The staff menu button (phones and tablets): open and close the menu panel; Escape or a
  // click elsewhere closes it.
  const menuButton = document.querySelector("[data-menu-toggle]");
  const menu = document.querySelector("[data-menu]");
  if (menuButton && menu) {
    const setOpen = (open) => {
      menu.classList.toggle("is-open", open);
      menuButton.setAttribute("aria-expanded", String(open));
    };
    menuButton.addEventListener("click", () => setOpen(!menu.classList.contains("is-open")));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.classList.contains("is-open")) {
        setOpen(false);
        menuButton.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!menu.contains(event.target) && !menuButton.contains(event.target)) setOpen(false);
    });
  }

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

  // A worklist (<ol data-worklist> of [data-worklist-link]): j / k move through it, Enter opens
  // the selected check-in (the focused link follows itself). Not while typing in a field.
  const worklist = document.querySelector("[data-worklist]");
  if (worklist) {
    const links = [...worklist.querySelectorAll("[data-worklist-link]")];
    let selected = -1;
    const select = (index) => {
      if (!links.length) return;
      selected = Math.max(0, Math.min(links.length - 1, index));
      links.forEach((link, i) => link.classList.toggle("is-selected", i === selected));
      links[selected].focus();
      links[selected].scrollIntoView({ block: "nearest" });
    };
    worklist.addEventListener("focusin", (event) => {
      const index = links.indexOf(event.target.closest("[data-worklist-link]"));
      if (index >= 0) select(index);
    });
    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
      if (event.key === "j") {
        event.preventDefault();
        select(selected + 1);
      } else if (event.key === "k") {
        event.preventDefault();
        select(selected - 1);
      } else if (event.key === "Enter" && selected >= 0 && document.activeElement === document.body) {
        window.location.assign(links[selected].href);
      }
    });
  }

  // A readonly link field selects itself on focus, ready to copy by hand.
  document.addEventListener("focusin", (event) => {
    if (event.target.matches?.(".copy-field__input")) event.target.select();
  });
})();
