// Drafts on the server: saved as the agent types (800 ms after the last change), when
// the text loses focus and when the page goes away; the server renders the composer
// from the draft, so it survives a reload, a crash and a change of device. Another tab
// or device saving the same draft ("draft.updated") re-renders this composer, unless
// the agent is typing in it.

import { api, csrfToken } from "./dom.js";

const DEBOUNCE_MS = 800;
const timers = new WeakMap();
const chains = new WeakMap(); // form → the promise of its last save, so saves run in order
let hooks = { refresh: async () => {}, modeOf: () => "reply" };

function draftUrl(form) {
  return `/api/v1/conversations/${form.dataset.conversationId}/draft`;
}

/** The draft as the composer now has it (what PUT .../draft takes). */
export function draftOf(form) {
  const replyTo = form.querySelector("input[name=reply_to]")?.value;
  const switched = form.dataset.channelId !== form.dataset.homeChannelId;
  return {
    mode: hooks.modeOf(form),
    body: form.querySelector("textarea[name=text]").value,
    subject: form.querySelector("input[name=subject]")?.value || null,
    channel_id: switched ? Number(form.dataset.channelId) : null,
    reply_to: replyTo ? Number(replyTo) : null,
    attachments: [...form.querySelectorAll("[data-file-list] .file-chip")]
      .map((chip) => Number(chip.dataset.attachmentId))
      .filter(Boolean),
  };
}

function isEmpty(draft) {
  // A subject alone (the thread's, usually) or a mode alone makes no draft.
  return !draft.body.trim() && !draft.attachments.length && draft.reply_to === null && draft.channel_id === null;
}

/** The composer changed: save it soon. */
export function draftChanged(form) {
  form.dataset.dirty = "yes";
  clearTimeout(timers.get(form));
  timers.set(form, setTimeout(() => saveDraftNow(form), DEBOUNCE_MS));
}

/** Save now what is unsaved (resolves when the server has it). */
export function saveDraftNow(form) {
  clearTimeout(timers.get(form));
  const run = async () => {
    if (!form.dataset.dirty || form.dataset.sending) return;
    delete form.dataset.dirty;
    const draft = draftOf(form);
    form.dataset.saving = "yes";
    try {
      if (isEmpty(draft)) {
        await api("DELETE", draftUrl(form));
        form.dataset.savedAt = "";
      } else {
        const saved = await api("PUT", draftUrl(form), draft);
        form.dataset.savedAt = saved.updated_at;
      }
    } catch {
      form.dataset.dirty = "yes"; // kept for the next change, blur or unload
    } finally {
      delete form.dataset.saving;
    }
  };
  const chain = (chains.get(form) ?? Promise.resolve()).then(run);
  chains.set(form, chain);
  return chain;
}

/** The message was sent: the hub deleted the draft with it; nothing is left to save. */
export function forgetDraft(form) {
  clearTimeout(timers.get(form));
  delete form.dataset.dirty;
  form.dataset.savedAt = "";
}

/** The page is going away: a request that outlives it (keepalive). */
function saveOnLeaving() {
  const form = document.getElementById("composer");
  if (!form?.dataset.dirty) return;
  const draft = draftOf(form);
  const empty = isEmpty(draft);
  fetch(draftUrl(form), {
    method: empty ? "DELETE" : "PUT",
    keepalive: true,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: empty ? undefined : JSON.stringify(draft),
  });
  delete form.dataset.dirty;
}

function sameTime(a, b) {
  if (!a || !b) return !a && !b;
  return new Date(a).getTime() === new Date(b).getTime();
}

function onDraftUpdated(data) {
  const form = document.getElementById("composer");
  if (!form || String(data.conversation_id) !== form.dataset.conversationId) return;
  if (form.dataset.saving || form.dataset.sending) return; // our own save or send, echoed
  if (sameTime(data.updated_at, form.dataset.savedAt)) return;
  // Typing here wins over another device: its next save will tell the others.
  if (form.dataset.dirty && form.contains(document.activeElement)) return;
  hooks.refresh(form);
}

export function setUpDrafts(given) {
  hooks = given;
  document.addEventListener("focusout", (event) => {
    const form = event.target.closest?.("#composer");
    if (form && !form.contains(event.relatedTarget)) saveDraftNow(form);
  });
  // A click on another conversation replaces the composer: save what it had first.
  document.addEventListener("click", (event) => {
    const form = document.getElementById("composer");
    if (form?.dataset.dirty && event.target.closest?.("#rows .row-link, [data-back]")) saveDraftNow(form);
  }, true);
  window.addEventListener("pagehide", saveOnLeaving);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") saveOnLeaving();
  });
  document.addEventListener("hub:event", (event) => {
    if (event.detail?.type === "draft.updated") onDraftUpdated(event.detail.data ?? {});
  });
}
