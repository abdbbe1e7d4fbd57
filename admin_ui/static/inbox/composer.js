// The composer: a reply or an internal comment, sent through the REST API.
//
// Each message gets an idempotency key when it is first sent, kept until the hub has
// answered it: a double click, or a retry after a timeout or an error, sends the same
// key, and the hub stores and sends the message once. A new message gets a new key.
//
// The composer's HTML comes from the server (_composer.html, as the user's draft left
// it); this module and its helpers (attachments, pickers, drafts, typing, templates)
// only read and change it.

import { api, fetchFragment } from "./dom.js";
import { attachmentIds, clearFiles, setUpAttachments, uploading } from "./attachments.js";
import { draftChanged, forgetDraft, saveDraftNow, setUpDrafts } from "./drafts.js";
import { closeSuggestions, mentionIds, setUpPickers } from "./pickers.js";
import { loadTemplates, setUpTemplates, templateChoice } from "./templates.js";
import { openConversation, syncTimeline } from "./thread.js";
import { localizeTimes } from "./time.js";
import { noteTyping, setUpTyping, showTypers, stoppedTyping } from "./typing.js";
import { t } from "./strings.js";

const pendingKeys = new Map(); // conversation id → { key, fingerprint } of the send in flight

/** The open conversation's composer form, if any. */
export function composerForm() {
  return document.getElementById("composer");
}

/** "reply" or "comment". */
export function modeOf(form) {
  return form.querySelector("input[name=mode]:checked")?.value ?? "reply";
}

function keyFor(conversationId, fingerprint) {
  const pending = pendingKeys.get(conversationId);
  if (pending && pending.fingerprint === fingerprint) return pending.key;
  const key = crypto.randomUUID();
  pendingKeys.set(conversationId, { key, fingerprint });
  return key;
}

export function showError(form, message) {
  const box = form.querySelector(".composer-error");
  box.textContent = message ?? "";
  box.hidden = !message;
}

/** The CC field's addresses (the hub checks each and names a bad one). */
function copies(form) {
  const field = form.querySelector("input[name=cc]");
  return field ? field.value.split(/[\s,;]+/).filter(Boolean) : [];
}

/** The words for a refused send: a bad CC address named as the field's label says it
 * ("Cc: 'bob@example' is not an email address…"), not as the API's "cc.0". */
function sendError(error) {
  const detail = error.data?.error?.details?.[0];
  if (detail?.field?.startsWith?.("cc")) return t("composer.cc_error", { message: detail.message });
  return error.message;
}

/** Unfold (or fold again) the CC field behind the subject's "Cc" button. */
function showCc(form, shown) {
  const toggle = form.querySelector("[data-show-cc]");
  if (!toggle) return;
  form.querySelector(".composer-cc").hidden = !shown;
  toggle.hidden = shown;
  toggle.setAttribute("aria-expanded", String(shown));
}

/** The body to POST, and where; null (with the reason shown) when there is nothing to send. */
function outgoing(form) {
  const mode = modeOf(form);
  const id = form.dataset.conversationId;
  const text = form.querySelector("textarea[name=text]").value;
  const files = attachmentIds(form);
  if (mode === "comment") {
    if (!text.trim() && !files.length) return null;
    const body = { body: text, mentions: mentionIds(form, text), attachments: files };
    return { url: `/api/v1/conversations/${id}/comments`, body };
  }
  let body;
  if (form.dataset.window === "closed") {
    const template = templateChoice(form);
    if (!template) return null;
    body = { template };
  } else {
    if (!text.trim() && !files.length) return null;
    body = { attachments: files };
    if (text.trim()) body.text = text;
  }
  const subject = form.querySelector("input[name=subject]")?.value.trim();
  if (subject) body.subject = subject;
  const cc = copies(form);
  if (cc.length) body.cc = cc;
  const replyTo = form.querySelector("input[name=reply_to]")?.value;
  if (replyTo) body.reply_to = Number(replyTo);
  return { url: `/api/v1/conversations/${id}/messages`, body };
}

/**
 * A reply on another of the contact's channels: start a conversation there, or, when
 * the contact already has one open on it, continue that one. Resolves to its id.
 */
async function sendElsewhere(form, body, key) {
  const { reply_to: _dropped, ...message } = body; // a reply-to belongs to this thread
  const start = { ...message, contact_id: Number(form.dataset.contactId), channel_id: Number(form.dataset.channelId) };
  try {
    const started = await api("POST", "/api/v1/conversations", start, { "Idempotency-Key": key });
    return started.id;
  } catch (error) {
    const existing = error.data?.error?.details?.conversation_id;
    if (error.status !== 409 || error.data?.error?.code !== "conversation_exists" || !existing) throw error;
    await api("POST", `/api/v1/conversations/${existing}/messages`, message, { "Idempotency-Key": key });
    return existing;
  }
}

function resetAfterSend(form) {
  form.querySelector("textarea[name=text]").value = "";
  const cc = form.querySelector("input[name=cc]");
  if (cc) {
    cc.value = "";
    showCc(form, false);
  }
  clearFiles(form);
  setReplyTo(form, null);
  form.querySelector("[data-template-choice]")?.dispatchEvent(new Event("reset-template"));
}

async function send(form) {
  if (form.dataset.sending) return;
  const button = form.querySelector("[data-send]");
  if (uploading(form)) {
    showError(form, t("composer.wait_uploads"));
    return;
  }
  const prepared = outgoing(form);
  if (!prepared) return;
  const conversationId = form.dataset.conversationId;
  const switched = modeOf(form) === "reply" && form.dataset.channelId !== form.dataset.homeChannelId;
  // Disabled before the first await: a second click meets a disabled button.
  form.dataset.sending = "yes";
  button.disabled = true;
  showError(form, null);
  closeSuggestions(form);
  const key = keyFor(conversationId, JSON.stringify([switched, prepared]));
  try {
    let elsewhere = null;
    if (switched) elsewhere = await sendElsewhere(form, prepared.body, key);
    else await api("POST", prepared.url, prepared.body, { "Idempotency-Key": key });
    pendingKeys.delete(conversationId);
    forgetDraft(form);
    stoppedTyping();
    resetAfterSend(form);
    if (elsewhere) {
      // The hub deleted no draft here (the message went elsewhere): this one is done.
      await api("DELETE", `/api/v1/conversations/${conversationId}/draft`).catch(() => {});
      await openConversation(elsewhere);
      return;
    }
    await syncTimeline();
  } catch (error) {
    showError(form, sendError(error));
  } finally {
    delete form.dataset.sending;
    button.disabled = false;
    if (form.isConnected) form.querySelector("textarea[name=text]").focus();
  }
}

/** Set (or with null, clear) the message the reply answers, shown quoted above the text. */
export function setReplyTo(form, messageId) {
  const quote = form.querySelector("[data-reply-quote]");
  const input = quote.querySelector("input[name=reply_to]");
  input.value = messageId ?? "";
  quote.hidden = !messageId;
  if (!messageId) return;
  const text = document.querySelector(`#message-${messageId} .message-text`)?.textContent ?? t("composer.a_message");
  quote.querySelector("[data-quote-text]").textContent = text.length > 160 ? `${text.slice(0, 159)}…` : text;
  quote.querySelector("[data-quote-warning]").hidden = form.dataset.replyToSupported === "yes";
}

function setMode(form, mode) {
  const comment = mode === "comment";
  form.classList.toggle("comment-mode", comment);
  form.querySelector("textarea").placeholder = comment
    ? t("composer.placeholder_comment")
    : t("composer.placeholder_reply");
  if (comment) stoppedTyping();
}

/** Replace the composer by the server's rendering of it (the draft's channel, mode, text). */
export async function refreshComposer(form) {
  const fragment = await fetchFragment(form.dataset.composerUrl);
  if (!fragment || !form.isConnected) return;
  localizeTimes(fragment);
  const fresh = fragment.querySelector("#composer");
  form.replaceWith(fresh);
  initComposer(fresh);
}

async function switchChannel(form, select) {
  form.dataset.channelId = select.value;
  select.disabled = true;
  draftChanged(form);
  await saveDraftNow(form);
  await refreshComposer(form);
}

/** What a freshly rendered composer needs: its templates and who is typing. */
function initComposer(form) {
  if (!form) return;
  if (form.dataset.window === "closed") loadTemplates(form);
  showTypers();
}

export function setUpComposer() {
  setUpAttachments({ changed: draftChanged, showError });
  setUpPickers({ changed: draftChanged, showError, modeOf });
  setUpDrafts({ refresh: refreshComposer, modeOf });
  setUpTemplates({ changed: draftChanged });
  setUpTyping();
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("#composer");
    if (!form) return;
    event.preventDefault();
    send(form);
  });
  document.addEventListener("keydown", (event) => {
    // Ctrl/⌘+Enter sends from anywhere in the composer.
    const form = event.target.closest?.("#composer");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener("input", (event) => {
    const form = event.target.closest?.("#composer");
    if (!form || event.target.matches("[data-file-input]")) return;
    draftChanged(form);
    if (event.target.matches("textarea[name=text]") && modeOf(form) === "reply") noteTyping(form);
  });
  document.addEventListener("change", (event) => {
    const form = event.target.closest?.("#composer");
    if (!form) return;
    if (event.target.matches("input[name=mode]")) {
      // Comment mode looks different (yellow), so nobody sends a comment to a customer.
      setMode(form, event.target.value);
      draftChanged(form);
    } else if (event.target.matches("[data-channel-switch]")) {
      switchChannel(form, event.target);
    }
  });
  document.addEventListener("click", (event) => {
    const reply = event.target.closest("[data-reply-to]");
    const form = composerForm();
    if (reply && form) {
      form.querySelector("input[name=mode][value=reply]").checked = true;
      setMode(form, "reply");
      setReplyTo(form, reply.dataset.replyTo);
      draftChanged(form);
      form.querySelector("textarea[name=text]").focus();
    } else if (form && event.target.closest("#composer [data-show-cc]")) {
      showCc(form, true);
      form.querySelector("input[name=cc]").focus();
    } else if (form && event.target.closest("#composer [data-cancel-reply]")) {
      setReplyTo(form, null);
      draftChanged(form);
      form.querySelector("textarea[name=text]").focus();
    }
  });
  document.addEventListener("hub:pane-opened", () => initComposer(composerForm()));
  initComposer(composerForm());
}
