// Custom inboxes: create one from the current filters, edit or delete it (its creator
// only; the API says so too), and show others what a shared one holds. Every change goes
// through the REST API; the page then opens the inbox.

import { api, fetchFragment } from "./dom.js";
import { t } from "./strings.js";

const DIALOGS = {
  "[data-custom-new]": "custom-inbox-new",
  "[data-custom-edit]": "custom-inbox-edit",
  "[data-custom-about]": "custom-inbox-about",
};

function checkedIds(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => Number(input.value));
}

/** The API body of the dialog's form; filters the dialog has no field for are kept. */
function bodyOf(form) {
  const unanswered = form.elements.unanswered.value;
  const filters = {
    ...JSON.parse(form.dataset.filters || "{}"),
    statuses: [...form.querySelectorAll('input[name="statuses"]:checked')].map((input) => input.value),
    channel_ids: checkedIds(form, "channel_ids"),
    assignee_ids: checkedIds(form, "assignee_ids"),
    include_unassigned: form.querySelector('input[name="include_unassigned"]').checked,
    team_ids: checkedIds(form, "team_ids"),
    label_ids: checkedIds(form, "label_ids"),
    priorities: [...form.querySelectorAll('input[name="priorities"]:checked')].map((input) => input.value),
    unanswered: unanswered === "" ? null : unanswered === "true",
  };
  const share = { user_ids: checkedIds(form, "share_user_ids"), team_ids: checkedIds(form, "share_team_ids") };
  return { name: form.elements.name.value.trim(), filters, share };
}

function showError(form, error) {
  const box = form.querySelector("[data-form-error]");
  box.textContent = error.message;
  box.hidden = false;
}

async function save(form) {
  const id = form.dataset.inboxId;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true; // one inbox per click, however many clicks
  try {
    const saved = id
      ? await api("PATCH", `/api/v1/custom-inboxes/${id}`, bodyOf(form))
      : await api("POST", "/api/v1/custom-inboxes", bodyOf(form));
    location.assign(`/inbox?view=custom:${saved.id}`);
  } catch (error) {
    showError(form, error);
    button.disabled = false;
  }
}

async function remove(form) {
  const name = form.elements.name.defaultValue;
  if (!window.confirm(t("custom.delete_confirm", { name }))) return;
  try {
    await api("DELETE", `/api/v1/custom-inboxes/${form.dataset.inboxId}`);
    location.assign("/inbox");
  } catch (error) {
    showError(form, error);
  }
}

/** The dialogs, fetched the first time one is opened (the page leaves them out: their
 * lists of people, teams, labels and channels weigh on every page). */
async function loadDialogs() {
  const holder = document.getElementById("custom-inbox-dialogs");
  if (!holder || holder.dataset.loaded) return;
  const fragment = await fetchFragment(holder.dataset.url);
  if (!fragment || holder.dataset.loaded) return;
  holder.replaceChildren(fragment);
  holder.dataset.loaded = "1";
}

async function openDialog(id) {
  await loadDialogs();
  document.getElementById(id)?.showModal();
}

export function setUpCustomInboxes() {
  document.addEventListener("click", (event) => {
    for (const [selector, id] of Object.entries(DIALOGS)) {
      if (event.target.closest(selector)) openDialog(id);
    }
    if (event.target.closest("[data-dialog-close]")) event.target.closest("dialog")?.close();
    const deleteButton = event.target.closest("[data-custom-delete]");
    if (deleteButton) remove(deleteButton.form);
  });
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-custom-form]");
    if (!form) return;
    event.preventDefault();
    save(form);
  });
}
