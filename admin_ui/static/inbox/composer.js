// The composer: send a reply or an internal comment through the REST API.
//
// Each message gets an idempotency key when it is first sent, kept until the hub has
// answered: a double click, or a retry after a timeout, sends the same key, and the
// hub stores and sends the message once.

import { api } from "./dom.js";
import { syncTimeline } from "./thread.js";

const pendingKeys = new WeakMap(); // form → the key of the message being sent

function keyFor(form, text) {
  const pending = pendingKeys.get(form);
  if (pending && pending.text === text) return pending.key;
  const key = crypto.randomUUID();
  pendingKeys.set(form, { key, text });
  return key;
}

function showError(form, message) {
  const box = form.querySelector(".composer-error");
  box.textContent = message ?? "";
  box.hidden = !message;
}

async function send(form) {
  const textarea = form.querySelector("textarea[name=text]");
  const text = textarea.value.trim();
  if (!text) return;
  const mode = form.querySelector("input[name=mode]:checked")?.value ?? "reply";
  const id = form.dataset.conversationId;
  const url = `/api/v1/conversations/${id}/${mode === "comment" ? "comments" : "messages"}`;
  const body = mode === "comment" ? { body: text } : { text };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  showError(form, null);
  try {
    await api("POST", url, body, { "Idempotency-Key": keyFor(form, `${mode}:${text}`) });
    pendingKeys.delete(form);
    textarea.value = "";
    await syncTimeline();
  } catch (error) {
    showError(form, error.message);
  } finally {
    button.disabled = false;
    textarea.focus();
  }
}

export function setUpComposer() {
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("#composer");
    if (!form) return;
    event.preventDefault();
    send(form);
  });
  document.addEventListener("keydown", (event) => {
    // Ctrl/⌘+Enter sends from the composer.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.closest("#composer")) {
      event.preventDefault();
      event.target.closest("#composer").requestSubmit();
    }
  });
  document.addEventListener("change", (event) => {
    // Comment mode looks different (yellow), so nobody sends a comment to a customer.
    if (event.target.matches("#composer input[name=mode]")) {
      const form = event.target.form;
      form.classList.toggle("comment-mode", event.target.value === "comment");
      form.querySelector("textarea").placeholder =
        event.target.value === "comment" ? "Write an internal comment…" : "Write a reply…";
    }
  });
}
