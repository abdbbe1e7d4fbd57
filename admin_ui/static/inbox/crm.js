// The contact panel's CRM tab: filled from inbox.contact.crm (server-rendered, from the
// cache) whenever a panel appears; an editable field saves on Enter or blur through
// PATCH /api/v1/contacts/{id}/crm with the value the agent saw as `expected`; a 409
// conflict shows both values and lets the agent choose; ↺ reverts to the earlier value;
// read-only values copy on a tap.

import { api, fetchFragment } from "./dom.js";
import { t } from "./strings.js";

const REFRESH_POLLS = 5;
const STATUS_MS = 8000;
// The last save's message: an edit makes a contact.updated event that redraws the whole
// panel, so the message is kept here and shown again in the redrawn tab.
let lastStatus = { text: "", contact: null, at: 0 };
// What the agent has typed and not saved yet, the field they are in, and the conflicts
// waiting for their choice: a live event redraws the whole panel, which would otherwise
// wipe an edit in progress or the question a refused save asked.
const drafts = { contact: null, values: new Map(), focused: null, conflicts: new Map() };

function slot() {
  return document.getElementById("contact-crm");
}

function contactId() {
  return document.getElementById("contact-card")?.dataset.contactId;
}

function seen(field) {
  return JSON.parse(field.dataset.value);
}

function same(a, b) {
  const text = (v) => (v === null || v === undefined ? "" : String(v)).trim().toLowerCase();
  return text(a) === text(b);
}

function words(value) {
  return value === null || value === undefined || value === "" ? t("crm.empty") : String(value);
}

function draftKey(field) {
  return `${field.closest("[data-connection-id]")?.dataset.connectionId}:${field.dataset.crmField}`;
}

function textInput(field) {
  const input = field.querySelector("[name=value]");
  return input?.tagName === "INPUT" ? input : null;
}

/** Put the unsaved edits, the open conflicts (and the focus) back into a freshly drawn tab. */
function restoreDrafts(target) {
  if (drafts.contact !== contactId()) return;
  for (const field of target.querySelectorAll("[data-crm-field]")) {
    const key = draftKey(field);
    const conflict = drafts.conflicts.get(key);
    if (conflict) showConflict(field, conflict.mine, conflict.current, { focus: false });
    const input = textInput(field);
    if (!input) continue;
    if (drafts.values.has(key)) input.value = drafts.values.get(key).value;
    const nothingFocused = !document.activeElement || document.activeElement === document.body;
    if (drafts.focused === key && nothingFocused && !conflict) input.focus();
  }
}

/** Show the last save's message in the tab on the page, while it is fresh. */
function showStatus() {
  const fresh = lastStatus.contact === contactId() && Date.now() - lastStatus.at < STATUS_MS;
  const box = slot()?.querySelector("[data-crm-status]");
  if (box && fresh) box.textContent = lastStatus.text;
}

/** Load the CRM tab of the panel on the page; read again while values refresh. */
export async function loadCrm({ status = "", polls = REFRESH_POLLS } = {}) {
  // Kept before the fetch: the panel may be redrawn meanwhile, and the redrawn tab's own
  // load must show this message, not an older one.
  if (status) lastStatus = { text: status, contact: contactId(), at: Date.now() };
  const target = slot();
  if (!target) return;
  target.dataset.loaded = "true";
  let fragment;
  try {
    fragment = await fetchFragment(target.dataset.crmUrl);
  } catch {
    return; // the contact is gone (merged): the panel is refreshed by its own code
  }
  if (!fragment) return;
  if (slot() !== target) {
    showStatus(); // redrawn meanwhile: its tab may have loaded before this message was kept
    return;
  }
  target.replaceChildren(fragment);
  restoreDrafts(target);
  const records = target.querySelector("[data-crm-records]");
  const tab = document.getElementById("contact-tab-crm");
  if (tab) tab.hidden = !records || records.dataset.crmRecords === "0";
  showStatus();
  if (records?.dataset.refreshing === "true" && polls > 0) {
    setTimeout(() => { if (slot() === target) loadCrm({ polls: polls - 1 }); }, 1500);
  }
}

/** Carry the drawn CRM tab into a freshly fetched contact panel, before that replaces
 * the one on the page: the tab is not blank while it reads its values again, and an agent
 * typing in it keeps the field, the draft and the focus (keys typed into a blank tab
 * would be lost). Call `refreshCarriedCrm` once the fresh panel is on the page. */
export function carryCrm(fresh) {
  const old = slot();
  const next = fresh.querySelector("#contact-crm");
  if (!old?.dataset.loaded || !next || next.dataset.crmUrl !== old.dataset.crmUrl) return false;
  next.replaceChildren(...[...old.childNodes].map((node) => node.cloneNode(true)));
  next.dataset.loaded = "true";
  const tab = fresh.querySelector("#contact-tab-crm");
  if (tab) tab.hidden = Boolean(document.getElementById("contact-tab-crm")?.hidden);
  return true;
}

/** The carried tab on the page: drafts, open conflicts (their buttons are not cloned) and
 * the focus back, then its values read again. */
export function refreshCarriedCrm() {
  const target = slot();
  if (!target) return;
  restoreDrafts(target);
  loadCrm();
}

function showError(field, message) {
  const error = field.querySelector("[data-crm-error]");
  if (!error) return;
  error.textContent = message;
  error.hidden = !message;
  field.querySelector("[name=value]")?.setAttribute("aria-invalid", message ? "true" : "false");
}

/** The drafts are this contact's from now on (another contact's are dropped). */
function claimDrafts() {
  if (drafts.contact === contactId()) return;
  drafts.values.clear();
  drafts.conflicts.clear();
  drafts.contact = contactId();
}

function forget(field) {
  drafts.values.delete(draftKey(field));
  drafts.conflicts.delete(draftKey(field));
}

function showConflict(field, mine, current, { focus = true } = {}) {
  claimDrafts();
  // The agent has now seen the CRM's value: a save from here on expects it.
  drafts.values.set(draftKey(field), { value: mine ?? "", seen: current });
  drafts.conflicts.set(draftKey(field), { mine, current });
  const input = textInput(field);
  if (input) input.value = mine ?? "";
  const box = field.querySelector("[data-crm-conflict]");
  const title = field.closest("[data-title]")?.dataset.title ?? t("crm.the_crm");
  box.replaceChildren();
  const text = document.createElement("p");
  text.textContent = t("crm.changed", { field: field.dataset.label, crm: title, mine: words(mine), theirs: words(current) });
  const keep = document.createElement("button");
  keep.type = "button";
  keep.className = "button small";
  keep.textContent = t("crm.keep_mine");
  keep.addEventListener("click", () => {
    drafts.conflicts.delete(draftKey(field));
    write(field, mine, current);
  });
  const theirs = document.createElement("button");
  theirs.type = "button";
  theirs.className = "button secondary small";
  theirs.textContent = t("crm.use_theirs", { crm: title });
  theirs.addEventListener("click", () => {
    forget(field);
    loadCrm({ status: t("crm.kept_theirs", { field: field.dataset.label, crm: title }) });
  });
  box.append(text, keep, " ", theirs);
  box.hidden = false;
  box.setAttribute("role", "alert");
  if (focus) keep.focus();
}

/** The field as it is on the page now: a live event may have redrawn the panel while a
 * save was in flight, and an answer shown in the old, detached field would be lost. */
function liveField(field, connectionId) {
  if (field.isConnected) return field;
  const name = CSS.escape(field.dataset.crmField);
  return slot()?.querySelector(
    `[data-connection-id="${connectionId}"] [data-crm-field="${name}"]`,
  ) ?? field;
}

/** Write `value` to the field, the CRM holding `expected` as far as the agent knows. */
async function write(field, value, expected) {
  if (field.dataset.saving) return;
  field.dataset.saving = "true";
  showError(field, "");
  const record = field.closest("[data-connection-id]");
  const body = {
    connection_id: Number(record.dataset.connectionId),
    field: field.dataset.crmField,
    value: value === "" ? null : value,
    expected,
  };
  try {
    await api("PATCH", `/api/v1/contacts/${contactId()}/crm`, body);
  } catch (error) {
    delete field.dataset.saving;
    field = liveField(field, body.connection_id);
    delete field.dataset.saving; // a redrawn panel may have carried the flag over
    showError(field, "");
    const details = error.data?.error?.details;
    if (error.status === 409 && error.data?.error?.code === "crm_conflict") {
      showConflict(field, value, details?.current ?? null);
    } else {
      const mine = Array.isArray(details) ? details.find((d) => d.field === field.dataset.crmField) : null;
      showError(field, mine?.message ?? error.message);
    }
    return;
  }
  // What the CRM holds now: a blur as the panel is redrawn must not write it again.
  field.dataset.value = JSON.stringify(body.value);
  forget(field);
  delete field.dataset.saving;
  await loadCrm({ status: t("crm.saved", { field: field.dataset.label, value: words(value) }) });
}

/** The value the agent saw when they began to edit: a redraw meanwhile may show the
 * CRM's newer one under their draft, and it must not be written over unasked. */
function expectedOf(field) {
  const draft = drafts.contact === contactId() ? drafts.values.get(draftKey(field)) : undefined;
  return draft ? draft.seen : seen(field);
}

/** Save the field's value if it changed; leaving a field whose conflict is still asked
 * does not answer the question (only its buttons, or Enter, do). */
function saveField(field, { leaving = false } = {}) {
  if (leaving && drafts.conflicts.has(draftKey(field))) return;
  const input = field.querySelector("[name=value]");
  const expected = expectedOf(field);
  if (!input || same(input.value, expected)) return;
  write(field, input.value, expected);
}

async function copy(button) {
  try {
    await navigator.clipboard.writeText(button.dataset.crmCopy);
  } catch {
    return; // no clipboard (not https, or refused): the value stays readable
  }
  const label = button.textContent;
  button.textContent = t("crm.copied");
  setTimeout(() => { button.textContent = label; }, 1500);
}

export function setUpCrm() {
  document.addEventListener("submit", (event) => {
    const form = event.target.closest?.("#contact-crm [data-crm-form]");
    if (!form) return;
    event.preventDefault();
    saveField(form.closest("[data-crm-field]"));
  });
  document.addEventListener("input", (event) => {
    const input = event.target.closest?.("#contact-crm [data-crm-form] input[name=value]");
    if (!input) return;
    const field = input.closest("[data-crm-field]");
    claimDrafts();
    const key = draftKey(field);
    const expected = expectedOf(field);
    if (same(input.value, expected)) drafts.values.delete(key);
    else drafts.values.set(key, { value: input.value, seen: expected });
  });
  document.addEventListener("focusin", (event) => {
    const input = event.target.closest?.("#contact-crm [data-crm-form] input[name=value]");
    if (input) claimDrafts();
    drafts.focused = input ? draftKey(input.closest("[data-crm-field]")) : null;
  });
  document.addEventListener("focusout", (event) => {
    const input = event.target.closest?.("#contact-crm [data-crm-form] [name=value]");
    if (!input || input.tagName !== "INPUT") return;
    // Chromium also sends focusout when a redraw removes the focused field: that is not
    // the agent leaving it, and a half-typed value must not be saved (the draft and the
    // focus move to the redrawn field). The removal is over by the next microtask.
    queueMicrotask(() => {
      if (!input.isConnected) return;
      const field = input.closest("[data-crm-field]");
      if (drafts.focused === draftKey(field)) drafts.focused = null;
      saveField(field, { leaving: true });
    });
  });
  document.addEventListener("change", (event) => {
    const select = event.target.closest?.("#contact-crm [data-crm-form] select[name=value]");
    if (select) saveField(select.closest("[data-crm-field]"));
  });
  document.addEventListener("click", (event) => {
    const revert = event.target.closest("#contact-crm [data-crm-revert]");
    if (revert) {
      const field = revert.closest("[data-crm-field]");
      return write(field, JSON.parse(revert.dataset.previous), seen(field));
    }
    const copyButton = event.target.closest("#contact-crm [data-crm-copy]");
    if (copyButton) copy(copyButton);
  });
  // A panel appears with the page, when a conversation opens, and after every refresh.
  const fill = () => {
    const target = slot();
    if (target && !target.dataset.loaded) loadCrm();
  };
  new MutationObserver(fill).observe(document.body, { childList: true, subtree: true });
  fill();
}
