// The contact panel: tabs (the ARIA tabs pattern), fields edited in place through the
// REST API with the API's own error beside the field, merging a suggested duplicate
// after a confirm dialog, and links that open earlier conversations in the pane.

import { carryCrm, refreshCarriedCrm } from "./crm.js";
import { api, fetchFragment, replaceById } from "./dom.js";
import { localizeTimes } from "./time.js";
import { openConversation, openPane, refreshHead } from "./thread.js";
import { t } from "./strings.js";

let chosenTab = "contact-tab-details";

function card() {
  return document.getElementById("contact-card");
}

/** Show one tab's panel; the others are hidden and leave the tab order. */
function selectTab(tab, focus = false) {
  const list = tab.closest("[role=tablist]");
  for (const other of list.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    const panel = document.getElementById(other.getAttribute("aria-controls"));
    if (panel) panel.hidden = !selected;
  }
  chosenTab = tab.id;
  if (focus) tab.focus();
}

function onTabKey(event) {
  const tab = event.target.closest("[role=tab]");
  if (!tab) return;
  const tabs = [...tab.closest("[role=tablist]").querySelectorAll("[role=tab]")];
  const index = tabs.indexOf(tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
}

/** A selector for the focused element inside `root`, to focus its copy in a redrawn
 * panel: a redraw by a live event must not drop the keyboard user's place. */
function focusAddress(root) {
  const focused = document.activeElement;
  if (!focused || focused === root || !root.contains(focused)) return null;
  if (focused.id) return `#${CSS.escape(focused.id)}`;
  const field = focused.closest("[data-field]");
  if (field && focused.matches("[data-edit]")) {
    return `[data-field="${CSS.escape(field.dataset.field)}"] [data-edit]`;
  }
  return null;
}

/** Fetch the panel again (after an edit, a merge, or a contact.updated event). */
export async function refreshContact({ focusField = null } = {}) {
  const current = card();
  if (!current) return;
  // Someone is typing into a field: do not pull it from under them.
  if (!focusField && current.querySelector("[data-edit-form]:not([hidden])")) return;
  let fragment;
  try {
    fragment = await fetchFragment(current.dataset.panelUrl);
  } catch {
    // The contact was merged into another one: the conversation's contact is new.
    const pane = openPane();
    if (pane) await openConversation(pane.dataset.conversationId, { push: false });
    return;
  }
  if (!fragment || card() !== current) return;
  localizeTimes(fragment);
  const address = focusField ? `[data-field="${focusField}"] [data-edit]` : focusAddress(current);
  const carried = carryCrm(fragment);
  const fresh = replaceById(fragment);
  if (carried) refreshCarriedCrm();
  const tab = fresh?.querySelector(`#${chosenTab}`);
  if (tab) selectTab(tab);
  if (address) fresh?.querySelector(address)?.focus();
}

function openEditor(field) {
  field.querySelector(".field-view").hidden = true;
  const form = field.querySelector("[data-edit-form]");
  form.hidden = false;
  const input = form.querySelector("input");
  input.focus();
  input.select();
}

function closeEditor(field) {
  const form = field.querySelector("[data-edit-form]");
  form.hidden = true;
  form.reset();
  showError(form, "");
  field.querySelector(".field-view").hidden = false;
  field.querySelector("[data-edit]").focus();
}

function showError(form, message) {
  const error = form.querySelector(".field-error");
  error.textContent = message;
  error.hidden = !message;
  form.querySelector("input")?.setAttribute("aria-invalid", message ? "true" : "false");
}

/** The API's message for this field (a 422 names it), or its general message. */
function messageFor(error, name) {
  const details = error.data?.error?.details ?? [];
  const key = name.replace(/^fields\./, "");
  const match = details.find((d) => d.field === name || String(d.field).endsWith(key));
  return match?.message ?? error.message;
}

function changeOf(name, raw) {
  const value = raw.trim();
  if (name.startsWith("fields.")) return { fields: { [name.slice(7)]: value === "" ? null : value } };
  const change = { [name]: value === "" ? null : value };
  // A national number is read as the contact's country's.
  const country = card()?.dataset.country;
  if (name === "phone" && value && !value.startsWith("+") && country) change.default_region = country;
  return change;
}

async function save(form) {
  const field = form.closest("[data-field]");
  const name = field.dataset.field;
  const input = form.querySelector("input");
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  try {
    await api("PATCH", `/api/v1/contacts/${card().dataset.contactId}`, changeOf(name, input.value));
  } catch (error) {
    showError(form, messageFor(error, name));
    input.focus();
    return;
  } finally {
    button.disabled = false;
  }
  form.hidden = true;
  await refreshContact({ focusField: name });
  if (name === "name") await refreshHead();
}

async function addField(form) {
  const key = form.elements.key.value.trim();
  const error = form.querySelector(".field-error");
  if (!/^[A-Za-z0-9_]{1,64}$/.test(key)) {
    error.textContent = t("contact.field_name");
    error.hidden = false;
    form.elements.key.focus();
    return;
  }
  try {
    await api("PATCH", `/api/v1/contacts/${card().dataset.contactId}`, { fields: { [key]: form.elements.value.value.trim() } });
  } catch (failure) {
    error.textContent = messageFor(failure, `fields.${key}`);
    error.hidden = false;
    return;
  }
  await refreshContact({ focusField: `fields.${key}` });
}

function askMerge(button) {
  const dialog = document.getElementById("merge-dialog");
  const contactName = document.getElementById("contact-heading")?.textContent ?? t("contact.this_contact");
  dialog.querySelector("[data-merge-text]").textContent =
    `Merge ${button.dataset.otherName} into ${contactName}?`;
  dialog.dataset.otherId = button.dataset.merge;
  const error = dialog.querySelector("[data-merge-error]");
  error.hidden = true;
  dialog.returnValue = "";
  dialog.showModal();
}

async function onMergeClosed(dialog) {
  if (dialog.returnValue !== "merge") return;
  const confirm = dialog.querySelector("[data-confirm-merge]");
  try {
    await api("POST", `/api/v1/contacts/${card().dataset.contactId}/merge`, { other_id: Number(dialog.dataset.otherId) });
  } catch (error) {
    const message = dialog.querySelector("[data-merge-error]");
    message.textContent = error.message;
    message.hidden = false;
    dialog.showModal();
    confirm.focus();
    return;
  }
  await refreshContact({ focusField: "name" });
}

export function setUpContact() {
  // The pane and the page come without the panel (it would slow the conversation's
  // first paint): fetch it as soon as the pane is in, or now for the page's.
  document.addEventListener("hub:pane-opened", () => {
    if (card()?.hasAttribute("data-deferred")) refreshContact();
  });
  if (card()?.hasAttribute("data-deferred")) refreshContact();
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#contact-panel")) return;
    const tab = event.target.closest("[role=tab]");
    if (tab) return selectTab(tab);
    const edit = event.target.closest("[data-edit]");
    if (edit) return openEditor(edit.closest("[data-field]"));
    const cancel = event.target.closest("[data-cancel]");
    if (cancel) return closeEditor(cancel.closest("[data-field]"));
    const merge = event.target.closest("[data-merge]");
    if (merge) return askMerge(merge);
    const link = event.target.closest("[data-open-conversation]");
    if (link && !(event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) {
      event.preventDefault();
      openConversation(link.dataset.openConversation);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest?.("#contact-panel [role=tablist]")) onTabKey(event);
    const form = event.target.closest?.("#contact-panel [data-edit-form]");
    if (form && event.key === "Escape") {
      event.preventDefault();
      closeEditor(form.closest("[data-field]"));
    }
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.closest?.("#contact-panel")) return;
    if (form.matches("[data-edit-form]")) {
      event.preventDefault();
      save(form);
    } else if (form.matches("[data-add-field]")) {
      event.preventDefault();
      addField(form);
    }
  });
  // A <dialog>'s "close" event does not bubble: listen where it is, in the capture phase.
  document.addEventListener("close", (event) => {
    if (event.target.id === "merge-dialog") onMergeClosed(event.target);
  }, true);
}
