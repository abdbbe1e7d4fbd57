// The conversation header's actions: each calls the REST API, then the pane is brought
// up to date (the same domain functions, and permission checks, as any API client).
// Close (with a closing note), snooze, assign, labels and priority ask first, in a
// <dialog>; the buttons keep their data-action names, which the keyboard shortcuts click.

import { api, fetchFragment } from "./dom.js";
import { refreshRow } from "./list.js";
import { snoozePresets, toLocalInput } from "./snooze.js";
import { openConversation, openPane, refreshHead, syncTimeline } from "./thread.js";
import { lang, t } from "./strings.js";

const conversationUrl = (id, action) => `/api/v1/conversations/${id}/${action}`;

/** Bring the pane and its row up to date after a change. */
export async function refreshAfter(id) {
  await Promise.allSettled([refreshHead(), syncTimeline(), refreshRow(id)]);
}

/** Show (or clear, with no message) the error line of a dialog. */
export function showError(dialog, message) {
  const box = dialog.querySelector(".dialog-error");
  box.textContent = message ?? "";
  box.hidden = !message;
}

/** Open a dialog whose form's submit runs ``submit(form)``; errors show inside it. */
function ask(dialog, submit) {
  const form = dialog.querySelector("form");
  showError(dialog, null);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await submit(form);
      dialog.close();
    } catch (error) {
      showError(dialog, error.message);
    } finally {
      button.disabled = false;
    }
  };
  dialog.showModal();
}

function closeConversation(pane, id) {
  const dialog = pane.querySelector("#close-dialog");
  if (dialog.dataset.mode === "off") return api("POST", conversationUrl(id, "close"), {});
  dialog.querySelector("textarea").value = "";
  ask(dialog, async (form) => {
    const note = form.querySelector("textarea").value.trim();
    await api("POST", conversationUrl(id, "close"), note ? { note } : {});
    await refreshAfter(id);
  });
  return null;
}

function snooze(pane, id) {
  const dialog = pane.querySelector("#snooze-dialog");
  const presets = snoozePresets(new Date());
  const input = dialog.querySelector("#snooze-until");
  input.min = toLocalInput(new Date());
  input.value = "";
  for (const [name, date] of Object.entries(presets)) {
    const label = dialog.querySelector(`[data-preset-label="${name}"]`);
    label.textContent = date.toLocaleString(lang(), { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }
  const until = async (date) => {
    await api("POST", conversationUrl(id, "snooze"), { until: date.toISOString() });
    await refreshAfter(id);
  };
  dialog.onclick = async (event) => {
    const preset = event.target.closest("[data-snooze-preset]");
    if (!preset) return;
    try {
      await until(presets[preset.dataset.snoozePreset]);
      dialog.close();
    } catch (error) {
      showError(dialog, error.message);
    }
  };
  ask(dialog, async () => {
    if (!input.value) throw new Error(t("dialog.pick_time"));
    // A datetime-local value is in the browser's zone; Date reads it so.
    await until(new Date(input.value));
  });
  return null;
}

async function assign(pane, id) {
  const dialog = pane.querySelector("#assign-dialog");
  const fresh = await fetchFragment(pane.dataset.assigneesUrl);
  const select = fresh?.querySelector("select");
  if (select) dialog.querySelector("#assign-to").replaceWith(select);
  ask(dialog, async (form) => {
    const choice = form.querySelector("#assign-to");
    const [kind, value] = choice.value.split(":");
    if (kind === "none") {
      await api("POST", conversationUrl(id, "unassign"));
    } else if (kind === "team") {
      await api("POST", conversationUrl(id, "assign"), { team_id: Number(value) });
    } else {
      // Keep the conversation's team when the person belongs to it.
      const team = pane.querySelector("#pane-head").dataset.teamId;
      const teams = (choice.selectedOptions[0].dataset.teamIds ?? "").split(" ");
      const body = { user_id: Number(value) };
      if (team && teams.includes(team)) body.team_id = Number(team);
      await api("POST", conversationUrl(id, "assign"), body);
    }
    await refreshAfter(id);
  });
  dialog.querySelector("#assign-to").focus();
  return null;
}

let mergeFilterTimer = 0;
let mergeFilterSeq = 0;

/** Ask the hub for the merge targets matching the filter's text (a contact with many). */
function filterMergeTargets(filter) {
  clearTimeout(mergeFilterTimer);
  mergeFilterTimer = setTimeout(async () => {
    const seq = ++mergeFilterSeq;
    const url = `${filter.dataset.filterUrl}?${new URLSearchParams({ q: filter.value.trim() })}`;
    let fresh;
    try {
      fresh = await fetchFragment(url);
    } catch (error) {
      showError(filter.closest("dialog"), error.message);
      return;
    }
    if (seq !== mergeFilterSeq) return; // a later keystroke asked again
    const list = fresh?.querySelector("#merge-target-list");
    if (list) filter.closest("dialog")?.querySelector("#merge-target-list")?.replaceWith(list);
  }, 250);
}

/** Merge into another of the contact's conversations, picked from a list; then open it. */
async function merge(pane, id) {
  const dialog = pane.querySelector("#merge-dialog");
  showError(dialog, null);
  const fresh = await fetchFragment(dialog.dataset.targetsUrl);
  const list = fresh?.firstElementChild;
  if (list) dialog.querySelector("#merge-targets").replaceWith(list);
  const filter = dialog.querySelector("#merge-filter");
  if (filter) {
    filter.oninput = () => filterMergeTargets(filter);
    // A search box eats the first Esc to clear itself: here Esc closes, as elsewhere.
    filter.onkeydown = (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        dialog.close();
      }
    };
  }
  dialog.onclick = async (event) => {
    const choice = event.target.closest("[data-merge-into]");
    if (!choice) return;
    choice.disabled = true;
    try {
      await api("POST", conversationUrl(id, "merge"), { into: Number(choice.dataset.mergeInto) });
      dialog.close();
      await openConversation(choice.dataset.mergeInto);
    } catch (error) {
      showError(dialog, error.message);
      choice.disabled = false;
    }
  };
  dialog.showModal();
  return null;
}

/** Put a label on the conversation, or take it off; the pane and row follow. */
export async function setLabel(id, labelId, on) {
  if (on) await api("POST", conversationUrl(id, "labels"), { label_ids: [Number(labelId)] });
  else await api("DELETE", `${conversationUrl(id, "labels")}/${labelId}`);
  await refreshAfter(id);
}

/** Put an SLA policy on the conversation (``policyId``), or take it off (null). */
export async function setSla(id, policyId) {
  if (policyId === null) await api("DELETE", conversationUrl(id, "sla"));
  else await api("PUT", conversationUrl(id, "sla"), { policy_id: Number(policyId) });
  await refreshAfter(id);
}

/** Give the conversation a priority (none, low, medium, high, urgent). */
export async function setPriority(id, priority) {
  await api("POST", conversationUrl(id, "priority"), { priority });
  await refreshAfter(id);
}

/** Show only the label choices whose name holds the filter's text (the pane's picker
 * and the bulk bar's: the dialog's search box). */
export function filterLabels(dialog) {
  const text = dialog.querySelector("input[type=search]").value.trim().toLowerCase();
  let shown = 0;
  for (const choice of dialog.querySelectorAll(".label-choice")) {
    const match = !text || choice.dataset.labelName.includes(text);
    choice.hidden = !match;
    if (match) shown += 1;
  }
  dialog.querySelector("[data-labels-none]").hidden = shown > 0 || !dialog.querySelector(".label-choice");
}

/**
 * The label picker: a checkbox per label, fetched fresh; each tick or untick applies at
 * once (so another agent sees it live), and the filter box narrows the list. Enter in
 * the filter ticks the only label left.
 */
async function labels(pane, id) {
  const dialog = pane.querySelector("#labels-dialog");
  const fresh = await fetchFragment(dialog.dataset.pickerUrl);
  const choices = fresh?.querySelector("#labels-choices");
  if (choices) dialog.querySelector("#labels-choices").replaceWith(choices);
  const filter = dialog.querySelector("#labels-filter");
  const status = dialog.querySelector("[data-labels-status]");
  filter.value = "";
  showError(dialog, null);
  filterLabels(dialog);
  filter.oninput = () => filterLabels(dialog);
  filter.onkeydown = (event) => {
    // A search box eats the first Esc to clear itself: here Esc closes, as elsewhere.
    if (event.key === "Escape") {
      event.preventDefault();
      dialog.close();
      return;
    }
    if (event.key !== "Enter") return;
    event.preventDefault();
    const visible = [...dialog.querySelectorAll(".label-choice:not([hidden]) input")];
    if (visible.length === 1) visible[0].click();
  };
  dialog.querySelector("#labels-choices").onchange = async (event) => {
    const box = event.target.closest("input[type=checkbox]");
    if (!box) return;
    box.disabled = true;
    showError(dialog, null);
    try {
      await setLabel(id, box.value, box.checked);
      status.textContent = t(box.checked ? "labels.added" : "labels.removed", { name: box.dataset.labelName });
    } catch (error) {
      box.checked = !box.checked;
      showError(dialog, error.message);
    } finally {
      box.disabled = false;
    }
  };
  dialog.querySelector("form").onsubmit = null;
  dialog.showModal();
  filter.focus();
  return null;
}

function priority(pane, id) {
  const dialog = pane.querySelector("#priority-dialog");
  const current = pane.querySelector("#pane-head").dataset.priority || "none";
  const radio = dialog.querySelector(`input[name=priority][value="${current}"]`);
  if (radio) radio.checked = true;
  ask(dialog, async (form) => {
    const chosen = form.querySelector("input[name=priority]:checked");
    if (!chosen) throw new Error(t("dialog.choose_priority"));
    await setPriority(id, chosen.value);
  });
  (radio ?? dialog.querySelector("input[name=priority]")).focus();
  return null;
}

const ACTIONS = {
  merge,
  close: closeConversation,
  reopen: (pane, id) => api("POST", conversationUrl(id, "reopen")),
  snooze,
  unsnooze: (pane, id) => api("POST", conversationUrl(id, "unsnooze")),
  assign,
  labels,
  priority,
  block: (pane) => api("POST", `/api/v1/contacts/${pane.dataset.contactId}/block`),
  unblock: (pane) => api("POST", `/api/v1/contacts/${pane.dataset.contactId}/unblock`),
};

export function setUpActions() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("#pane-head [data-action]");
    const action = button && ACTIONS[button.dataset.action];
    if (!action) return;
    const pane = openPane();
    const id = pane.dataset.conversationId;
    button.disabled = true;
    try {
      const done = await action(pane, id);
      // A dialog's action finishes when the dialog is answered (null here).
      if (done !== null) await refreshAfter(id);
    } catch (error) {
      alert(error.message);
    } finally {
      button.disabled = false;
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-dialog-cancel]")) event.target.closest("dialog").close();
    // The merged conversation's notice opens the one it was merged into, in place.
    const link = event.target.closest(".pane-main [data-open-conversation]");
    if (link && !(event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) {
      event.preventDefault();
      openConversation(link.dataset.openConversation);
    }
    // The composer's Labels button opens the header's picker (one picker, one code path).
    if (event.target.closest("[data-composer-labels]")) {
      document.querySelector('#pane-head [data-action="labels"]')?.click();
    }
  });
}
