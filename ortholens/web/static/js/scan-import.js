// Scan import on the staff pages (templates/scans/_import.html): files or an export folder (one
// scan set either way; the server packs several files as the scanner's ZIP), while they upload the
// form's button says so, and a background import's progress bar follows GET /api/jobs/{id} (cookie
// session, same origin) until the job is done, then goes to the page that shows its outcome.
(() => {
  "use strict";

  const POLL_MS = 1000;

  for (const form of document.querySelectorAll("form[data-scan-import]")) {
    // Files or a folder, not both: choosing one clears the other, so one selection is sent.
    const files = form.querySelector("[data-import-files]");
    const folder = form.querySelector("[data-import-folder]");
    const none = form.querySelector("[data-import-none]");
    if (files && folder) {
      files.addEventListener("change", () => { if (files.files.length) folder.value = ""; });
      folder.addEventListener("change", () => { if (folder.files.length) files.value = ""; });
    }
    form.addEventListener("submit", (event) => {
      if (files && folder && !files.files.length && !folder.files.length) {
        event.preventDefault();
        if (none) none.hidden = false;
        return;
      }
      if (none) none.hidden = true;
      const button = form.querySelector("[data-import-submit]");
      if (!button) return;
      // Disabled after this event, so the click still submits the form once.
      window.setTimeout(() => {
        button.disabled = true;
        const label = button.querySelector("span");
        if (label) label.textContent = "Uploading…";
      }, 0);
    });
  }

  const panel = document.querySelector("[data-scan-job]");
  if (!panel) return;
  const bar = panel.querySelector("[data-job-bar]");
  const message = panel.querySelector("[data-job-message]");
  const errorBox = panel.querySelector("[data-job-error]");

  function show(job) {
    const percent = Math.round(Math.min(Math.max(Number(job.progress) || 0, 0), 1) * 100);
    bar.value = percent;
    bar.textContent = `${percent} %`;
    panel.dataset.progress = String(percent);
    if (job.message) message.textContent = `${percent} % · ${job.message}`;
    else message.textContent = job.status === "queued" ? "Waiting for the import to start…" : `${percent} %`;
  }

  function fail(text) {
    panel.dataset.state = "failed";
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  async function poll() {
    let response;
    try {
      response = await fetch(panel.dataset.jobUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      window.setTimeout(poll, POLL_MS * 3); // offline for a moment: try again later
      return;
    }
    if (!response.ok) {
      fail(response.status === 404 ? "This import could not be found." : "The progress of the import could not be read. Reload the page to try again.");
      return;
    }
    const job = await response.json();
    panel.dataset.state = job.status;
    show(job);
    if (job.status === "succeeded") {
      bar.value = 100;
      message.textContent = "Imported. Opening the result…";
      window.location.assign(panel.dataset.doneUrl);
    } else if (job.status === "failed") {
      fail(`The import failed: ${job.error || "the file could not be read."}`);
    } else {
      window.setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
