// Hearth Mail works without this file. It asks before deleting for good; follows new mail (the
// server's event stream says when the INBOX changed, and the page fetches itself again and swaps in
// the new list and folder counts, unless the owner is in the middle of selecting messages); and
// saves what the owner writes to Drafts every few seconds, each save replacing the one before.
// No inline scripts anywhere: the Content-Security-Policy allows only this file.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[name=action][value=delete]");
  if (button && button.textContent.includes("for good") && !window.confirm("Delete for good? This cannot be undone.")) {
    event.preventDefault();
  }
});

async function refresh() {
  const list = document.querySelector("ul.messages[data-live]");
  if (list && document.querySelector("ul.messages input:checked")) {
    return;
  }
  let page;
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      return;
    }
    page = await response.text();
  } catch (e) {
    // Offline, or the page is being left: the next event (or the next visit) brings the list.
    return;
  }
  const fresh = new DOMParser().parseFromString(page, "text/html");
  for (const selector of list ? ["ul.messages", "#folders ul"] : ["#folders ul"]) {
    const now = document.querySelector(selector);
    const next = fresh.querySelector(selector);
    if (now && next) {
      now.replaceWith(document.adoptNode(next));
    }
  }
}

if (document.querySelector("#folders") && "EventSource" in window) {
  let events;
  const follow = () => {
    events = new EventSource("/events");
    events.addEventListener("mail", refresh);
  };
  follow();
  // A page being left follows no more; one brought back from the back-forward cache catches up.
  window.addEventListener("pagehide", () => { events.close(); });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      follow();
      refresh();
    }
  });
}

const compose = document.querySelector("form.compose");
if (compose) {
  let changed = false;
  let pending = null;
  let leaving = false;
  compose.addEventListener("input", () => { changed = true; });
  const saveNow = async () => {
    const form = new FormData(compose);
    form.delete("files");
    form.set("action", "autosave");
    try {
      const response = await fetch("/send", { method: "POST", body: form, credentials: "same-origin" });
      const answer = await response.json();
      if (response.ok && answer.draft) {
        compose.elements["draft-uid"].value = String(answer.draft);
        document.getElementById("draft-status").textContent =
          "Draft saved at " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      } else {
        changed = true;
      }
    } catch (e) {
      changed = true;
    }
  };
  const save = () => {
    const worthKeeping = ["to", "subject", "text"].some((name) => compose.elements[name].value.trim() !== "");
    if (leaving || !changed || pending || !worthKeeping) {
      return;
    }
    changed = false;
    pending = saveNow().finally(() => { pending = null; });
  };
  // Sending or saving waits for a save under way, so the form names the copy it replaces.
  compose.addEventListener("submit", (event) => {
    leaving = true;
    if (pending) {
      event.preventDefault();
      const submitter = event.submitter;
      pending.then(() => { pending = null; compose.requestSubmit(submitter); });
    }
  });
  window.setInterval(save, 5000);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") { save(); } });
}
