// The patient portal's scan wizard (seed 004): five photos, one view at a time, each sent straight
// to storage through the patient upload API (upload-url -> PUT/POST the bytes -> confirm).
// Uploads run one after another in the background while the patient goes on to the next view.
// Once a photo is confirmed the page polls GET /api/patient/scans/sessions/{id} until the server
// has processed it, and shows its quality verdict and retake advice on that step. "Send photos"
// POSTs .../sessions/{id}/submit: only then does the check-in enter the practice's review queue.
// A check-in left half done is resumed (the server hands back the open session and its photos).
(() => {
  "use strict";

  const root = document.getElementById("scan-wizard");
  if (!root) return;

  const csrf = root.dataset.csrf || "";
  const total = Number(root.dataset.total) || 5;
  const steps = Array.from(root.querySelectorAll("[data-step]"));
  const blocked = document.getElementById("wizard-blocked");
  const done = document.getElementById("wizard-done");
  const alertBox = root.querySelector("[data-alert]");
  const sendButton = root.querySelector("[data-send]");
  const prevButton = root.querySelector("[data-prev]");
  const nextButton = root.querySelector("[data-next]");

  const POLL_MS = 1500;
  const POLL_LIMIT = 120; // about three minutes of checking; then the page stops asking

  /** type -> {file, url, status: "empty" | "queued" | "uploading" | "done" | "failed", error,
   *  imageId, verdict: the server's {state: processing | good | retake | failed, advice}} */
  const photos = new Map(steps.map((step) => [step.dataset.type, { status: "empty" }]));
  const typeOfView = new Map(steps.map((step) => [step.dataset.view, step.dataset.type]));
  let current = 0;
  let sessionId = null;
  let sessionPromise = null;
  let queue = Promise.resolve();
  let sending = false;

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || `The server answered ${status}.`);
      this.status = status;
      this.problem = problem || {};
    }

    get consentRequired() {
      return this.status === 422 && String(this.problem.type || "").endsWith("consent-required");
    }
  }

  async function api(path, body, method = "POST") {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": csrf,
      },
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function explain(error) {
    if (error instanceof ApiError && error.status === 401) {
      return "Your sign-in has expired. Reload the page to sign in again; your uploaded photos are kept.";
    }
    if (error instanceof ApiError) return error.message;
    if (error instanceof TypeError) return "No connection. Check your internet and try again.";
    return error && error.message ? error.message : "Something went wrong. Try again.";
  }

  function showAlert(message) {
    alertBox.hidden = !message;
    alertBox.textContent = message || "";
  }

  function block(message) {
    root.hidden = true;
    if (message) blocked.querySelector("[data-blocked-message]").textContent = message;
    blocked.hidden = false;
  }

  // ---- The scan session ------------------------------------------------------------------------

  function startSession() {
    const state = root.querySelector("[data-session-state]");
    sessionPromise = api("/api/patient/scans/sessions")
      .then((session) => {
        sessionId = session.id;
        state.textContent = session.imageCount ? "Continuing where you left off" : "Ready";
        showAlert("");
        if (session.imageCount) refreshVerdicts(true);
        return sessionId;
      })
      .catch((error) => {
        sessionPromise = null;
        if (error instanceof ApiError && error.consentRequired) {
          block(error.message);
        } else {
          state.textContent = "Not connected";
          showAlert(`We could not start your photo session. ${explain(error)}`);
        }
        throw error;
      });
    return sessionPromise;
  }

  function ensureSession() {
    return sessionId ? Promise.resolve(sessionId) : sessionPromise || startSession();
  }

  // ---- One photo -------------------------------------------------------------------------------

  async function sendBytes(target, file) {
    let response;
    if ((target.method || "PUT").toUpperCase() === "PUT") {
      response = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": file.type || "image/jpeg", ...(target.headers || {}) },
        body: file,
      });
    } else {
      const form = new FormData();
      for (const [name, value] of Object.entries(target.fields || {})) form.append(name, value);
      form.append("file", file);
      response = await fetch(target.url, { method: "POST", body: form });
    }
    // Read the (short) answer to the end, so the request is finished and not left open.
    await response.text().catch(() => "");
    if (!response.ok) {
      throw new Error(`The photo did not reach our storage (error ${response.status}). Try again.`);
    }
  }

  async function upload(type) {
    const photo = photos.get(type);
    const file = photo.file;
    if (!file) return;
    photo.status = "uploading";
    photo.error = null;
    render();
    try {
      await ensureSession();
      const target = await api("/api/patient/scans/upload-url", {
        sessionId,
        imageType: type,
        contentType: file.type || "image/jpeg",
      });
      if (target.maxSize && file.size > target.maxSize) {
        const limit = Math.round(target.maxSize / 1024 / 1024);
        throw new Error(`This photo is larger than ${limit} MB. Take it again at a lower size.`);
      }
      await sendBytes(target, file);
      const image = await api("/api/patient/scans/upload/confirm", { sessionId, imageType: type, key: target.key });
      if (photo.file === file) {
        photo.status = "done";
        photo.imageId = image.id;
        photo.verdict = { state: "processing" };
        schedulePoll();
      }
    } catch (error) {
      if (error instanceof ApiError && error.consentRequired) block(error.message);
      if (photo.file === file) {
        photo.status = "failed";
        photo.error = explain(error);
      }
    }
    render();
  }

  function enqueue(type) {
    photos.get(type).status = "queued";
    queue = queue.then(() => upload(type));
    render();
  }

  function choose(input) {
    const type = input.dataset.file;
    const file = input.files && input.files[0];
    if (!file) return;
    const photo = photos.get(type);
    if (!file.type.startsWith("image/")) {
      photo.status = "failed";
      photo.error = "That file is not a photo. Take a photo with the camera.";
      render();
      return;
    }
    if (photo.url) URL.revokeObjectURL(photo.url);
    photo.file = file;
    photo.url = URL.createObjectURL(file);
    enqueue(type);
    input.value = ""; // choosing the same file again still fires "change"
  }

  // ---- The server's verdict ---------------------------------------------------------------------

  let pollTimer = null;
  let polls = 0;

  function waiting() {
    return Array.from(photos.values()).some((p) => p.status === "done" && p.verdict && p.verdict.state === "processing");
  }

  function schedulePoll() {
    if (pollTimer || !sessionId) return;
    pollTimer = window.setTimeout(() => {
      pollTimer = null;
      refreshVerdicts(false);
    }, POLL_MS);
  }

  /** Read the check-in's photos from the server; `resume` also takes photos this page did not send. */
  async function refreshVerdicts(resume) {
    let checkin;
    try {
      checkin = await api(`/api/patient/scans/sessions/${sessionId}`, null, "GET");
    } catch {
      if (waiting() && ++polls < POLL_LIMIT) schedulePoll();
      return;
    }
    for (const verdict of checkin.photos) {
      const type = typeOfView.get(verdict.viewCode);
      const photo = type && photos.get(type);
      if (!photo) continue;
      // The latest photo of a view counts (a retake replaces the one before).
      if (resume && photo.status === "empty") {
        photo.status = "done";
        photo.imageId = verdict.id;
        photo.resumed = true;
      }
      if (photo.imageId === verdict.id) photo.verdict = verdict;
    }
    render();
    if (waiting() && ++polls < POLL_LIMIT) schedulePoll();
  }

  // ---- Drawing ---------------------------------------------------------------------------------

  const STATUS_TEXT = {
    empty: "No photo yet",
    queued: "Waiting to upload…",
    uploading: "Uploading…",
    done: "Uploaded",
  };

  /** The step's status line: [data-state, text] from the upload and the server's verdict. */
  function statusOf(photo) {
    if (photo.status === "failed") return ["failed", `Upload failed: ${photo.error}`];
    if (photo.status !== "done") return [photo.status, STATUS_TEXT[photo.status]];
    const verdict = photo.verdict || {};
    const sent = photo.resumed ? "Uploaded earlier" : "Uploaded";
    if (verdict.state === "good") return ["good", `${sent} · looks good`];
    if (verdict.state === "retake") return ["retake", `Please retake: ${verdict.advice || "the photo is hard to read."}`];
    if (verdict.state === "failed") return ["failed", verdict.advice || "This photo could not be read. Take it again."];
    return ["checking", `${sent} · checking the photo…`];
  }

  function render() {
    const uploaded = Array.from(photos.values()).filter((p) => p.status === "done").length;
    root.querySelector("[data-count]").textContent = `${uploaded}/${total} uploaded`;
    root.querySelector("[data-progress]").value = uploaded;

    steps.forEach((step, index) => {
      const type = step.dataset.type;
      const photo = photos.get(type);
      step.hidden = index !== current;

      const chip = root.querySelector(`[data-chip="${type}"]`);
      chip.dataset.state = photo.status;
      if (index === current) chip.setAttribute("aria-current", "step");
      else chip.removeAttribute("aria-current");

      const previewBox = step.querySelector("[data-preview-box]");
      const preview = step.querySelector("[data-preview]");
      if (photo.url && preview.getAttribute("src") !== photo.url) preview.src = photo.url;
      previewBox.hidden = !photo.url;
      step.querySelector(".shot__drawing").classList.toggle("shot__drawing--small", !!photo.url);

      const status = step.querySelector("[data-status]");
      const [state, text] = statusOf(photo);
      status.dataset.state = state;
      chip.dataset.verdict = state;
      status.querySelector("[data-status-text]").textContent = text;
      step.querySelector("[data-retry]").hidden = photo.status !== "failed" || !photo.file;
      const taken = !!photo.file || photo.status === "done";
      const retakeFirst = state === "retake" || (photo.status === "done" && state === "failed");
      step.querySelector("[data-take-label]").textContent = taken ? "Retake photo" : "Take photo";
      step.querySelector("[data-take]").classList.toggle("button--primary", !taken || retakeFirst);
      step.querySelector("[data-take]").classList.toggle("button--secondary", taken && !retakeFirst);
    });

    prevButton.disabled = current === 0;
    nextButton.disabled = current === steps.length - 1;
    const currentPhoto = photos.get(steps[current].dataset.type);
    const nextIsPrimary = !!currentPhoto.file && !nextButton.disabled;
    nextButton.classList.toggle("button--primary", nextIsPrimary);
    nextButton.classList.toggle("button--secondary", !nextIsPrimary);

    const ready = uploaded === total;
    sendButton.disabled = !ready || sending;
    const failed = Array.from(photos.values()).filter((p) => p.status === "failed").length;
    const retakes = Array.from(photos.values()).filter((p) => p.status === "done" && p.verdict && p.verdict.state === "retake").length;
    root.querySelector("[data-send-hint]").textContent = ready
      ? retakes
        ? `${retakes} photo${retakes > 1 ? "s" : ""} may be hard to read: retake ${retakes > 1 ? "them" : "it"} for a better review, or send as they are.`
        : "All photos are uploaded. Tap Send to finish."
      : failed
        ? `${failed} photo${failed > 1 ? "s" : ""} did not upload: open ${failed > 1 ? "them" : "it"} and tap Retry.`
        : `Send is ready once all ${total} photos are uploaded.`;
  }

  function go(index) {
    current = Math.max(0, Math.min(steps.length - 1, index));
    render();
    root.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  // ---- Events ----------------------------------------------------------------------------------

  root.addEventListener("change", (event) => {
    if (event.target.matches("[data-file]")) choose(event.target);
  });
  root.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-goto]");
    if (chip) go(Number(chip.dataset.goto));
    if (event.target.closest("[data-retry]")) enqueue(steps[current].dataset.type);
  });
  prevButton.addEventListener("click", () => go(current - 1));
  nextButton.addEventListener("click", () => go(current + 1));
  sendButton.addEventListener("click", async () => {
    if (sendButton.disabled || !sessionId) return;
    sending = true;
    render();
    try {
      await api(`/api/patient/scans/sessions/${sessionId}/submit`);
    } catch (error) {
      sending = false;
      showAlert(`Your photos were not sent. ${explain(error)}`);
      render();
      return;
    }
    window.clearTimeout(pollTimer);
    root.hidden = true;
    done.hidden = false;
    done.focus?.();
  });
  window.addEventListener("beforeunload", (event) => {
    const busy = Array.from(photos.values()).some((p) => p.status === "uploading" || p.status === "queued");
    if (busy) event.preventDefault();
  });

  render();
  startSession().catch(() => {});
})();
