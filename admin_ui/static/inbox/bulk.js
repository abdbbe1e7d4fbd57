// Bulk actions on the list: select rows (click, shift-click for a range, the page's box,
// then "all matching this view"), then assign, unassign, label, prioritise, run a macro,
// close (with the closing note the workspace asks for), snooze or reopen them through
// POST /api/v1/conversations/bulk — the same domain functions and per-conversation
// permission checks as one conversation's actions. A large job runs in the background:
// the bar polls its progress and ends with the hub's summary ("198 assigned, 2 skipped";
// "200 labelled Billing"). Several labels are one job each, one after the other.

import { filterLabels } from "./actions.js";
import { api, fetchFragment, inbox } from "./dom.js";
import { reloadList } from "./list.js";
import { loadMacros } from "./macros.js";
import { snoozePresets, toLocalInput } from "./snooze.js";
import { lang, t, tn } from "./strings.js";

const selected = new Set(); // conversation ids, as strings
let matching = false; // "every conversation matching this view" instead of the ids
let anchor = null; // the row clicked last, where a shift-click range starts
let busy = false;

const bar = () => document.getElementById("bulk-bar");
const boxes = () => [...document.querySelectorAll("#rows > .row [data-select]")];
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Show the selection: the rows' boxes, the bar with its count, "select all matching". */
function render() {
  const b = bar();
  if (!b) return;
  const all = boxes();
  for (const box of all) {
    box.checked = matching || selected.has(box.value);
    box.closest(".row").classList.toggle("selected", box.checked);
  }
  const onPage = all.filter((box) => box.checked).length;
  const page = document.querySelector("[data-select-page]") ?? {};
  page.checked = all.length > 0 && onPage === all.length;
  page.indeterminate = onPage > 0 && onPage < all.length;
  const count = b.querySelector("[data-bulk-count]");
  const offer = b.querySelector("[data-select-matching]");
  const total = Number(offer.dataset.total ?? 0);
  const allText = total ? tn("bulk.all_matching_count", total) : t("bulk.all_matching");
  count.textContent = matching ? allText : tn("bulk.selected", selected.size);
  // Past this page there is more to select: the list has another page to load.
  const more = Boolean(document.querySelector("#rows > [data-more]"));
  offer.hidden = matching || !page.checked || !more;
  if (!offer.hidden && !counting && offer.dataset.total === undefined) countMatching();
  const choosing = !busy && (matching || selected.size > 0);
  b.querySelector(".bulk-select").hidden = !choosing;
  b.querySelector(".bulk-actions").hidden = !choosing;
  const done = b.querySelector("[data-bulk-done]");
  if (choosing) done.hidden = true; // a new selection replaces the last summary
  b.hidden = !busy && !choosing && done.hidden;
  document.body.classList.toggle("bulk-on", !b.hidden);
}

function setRow(id, on) {
  if (on) selected.add(id);
  else selected.delete(id);
}

let counting = false;

/** Count what "all matching" would take, for the offer to say ("Select all 200…"). */
async function countMatching() {
  counting = true;
  try {
    const fresh = await fetchFragment(bar().dataset.matchingUrl);
    const offer = fresh?.firstElementChild;
    if (offer) bar().querySelector("[data-select-matching]").replaceWith(offer);
  } catch {
    // Not counted: the offer keeps its words without the number (and is not asked again).
    bar().querySelector("[data-select-matching]").dataset.total = "";
  } finally {
    counting = false;
  }
  render();
}

/** Forget the count: the list changed (a job ran, rows moved). */
function forgetCount() {
  const offer = bar()?.querySelector("[data-select-matching]");
  if (offer) delete offer.dataset.total;
}

/** Select or unselect one row; with ``range``, every row from the last one clicked. */
function choose(id, on, range) {
  if (matching) {
    // Leaving "all matching": keep what the page shows, minus this change.
    matching = false;
    for (const box of boxes()) selected.add(box.value);
  }
  const ids = boxes().map((box) => box.value);
  const [from, to] = [ids.indexOf(anchor), ids.indexOf(id)];
  if (range && from >= 0 && to >= 0) {
    for (const rowId of ids.slice(Math.min(from, to), Math.max(from, to) + 1)) setRow(rowId, on);
  } else {
    setRow(id, on);
  }
  anchor = id;
  render();
}


/** Unselect everything; false when nothing was selected (Esc then does what it did). */
export function clearSelection() {
  if (!matching && selected.size === 0) return false;
  matching = false;
  selected.clear();
  anchor = null;
  render();
  return true;
}

/** Toggle the selection of the focused row (or the open conversation's row). */
export function toggleFocused() {
  const row = document.activeElement?.closest?.("#rows > .row")
    ?? document.querySelector("#rows > .row .row-link[aria-current]")?.closest(".row");
  const box = row?.querySelector("[data-select]");
  if (!box) return false;
  choose(box.value, !box.checked, false);
  return true;
}

/** The request's target: the ids chosen, or the filter of the list shown. */
function target() {
  if (!matching) return { conversation_ids: [...selected].map(Number) };
  const b = bar();
  const filter = { view: inbox().dataset.view, status: b.dataset.status };
  if (b.dataset.unanswered) filter.unanswered = true;
  if (b.dataset.label) filter.label = [Number(b.dataset.label)];
  return { filter };
}

function showProgress(job) {
  const b = bar();
  b.querySelector("[data-bulk-progress]").hidden = false;
  const meter = b.querySelector("[data-bulk-meter]");
  meter.max = Math.max(job.total, 1);
  meter.value = job.processed;
  b.querySelector("[data-bulk-progress-text]").textContent = `${job.processed} of ${job.total} done…`;
}

function showSummary(text, failed = false) {
  const b = bar();
  b.querySelector("[data-bulk-progress]").hidden = true;
  const summary = b.querySelector("[data-bulk-summary]");
  summary.textContent = text;
  summary.classList.toggle("error", failed);
  b.querySelector("[data-bulk-done]").hidden = false;
}

/** The hub's summary with what was done named: "198 labelled Billing, 2 skipped". */
function named(summary, what) {
  if (!what) return summary;
  const [head, ...rest] = summary.split(", ");
  return [`${head} ${what}`, ...rest].join(", ");
}

/** Run each step ({action, params, what, title}) on the selection, one job after the
 * other; follow a background job to its end; sum them all up ("what" names what was
 * done after the count, "title" before the whole: "Macro “Escalate”: 30 done"). */
async function run(steps) {
  busy = true;
  render();
  const goal = target(); // the selection is kept until every step has run
  const said = [];
  try {
    for (const { action, params = {}, what = "", title = "" } of steps) {
      const say = (summary) => (title ? `${title}: ${summary}` : named(summary, what));
      let job = await api("POST", "/api/v1/conversations/bulk", { action, params, ...goal });
      while (job.status === "queued" || job.status === "running") {
        showProgress(job);
        await wait(500);
        job = await api("GET", `/api/v1/bulk-jobs/${job.id}`);
      }
      if (job.status === "failed") {
        said.push(`${t("bulk.stopped", { error: job.error })} ${say(job.summary)}.`);
        showSummary(said.join(" "), true);
        return;
      }
      said.push(`${say(job.summary)}.`);
    }
    showSummary(said.join(" "));
    matching = false;
    selected.clear();
    anchor = null;
    forgetCount();
  } catch (error) {
    // Refused as a whole (e.g. a closing note required): the selection stays to retry.
    showSummary([...said, error.message].join(" "), true);
  } finally {
    busy = false;
    render();
    await reloadList();
  }
}

function ask(dialog, submit) {
  const form = dialog.querySelector("form");
  const error = dialog.querySelector(".dialog-error");
  error.hidden = true;
  // A new choice makes the last complaint stale.
  form.oninput = () => { error.hidden = true; };
  for (const what of dialog.querySelectorAll("[data-bulk-what]")) {
    const total = Number(bar().querySelector("[data-select-matching]").dataset.total ?? 0);
    const all = total ? tn("bulk.all_matching_conversations", total) : t("bulk.every_matching");
    what.textContent = matching ? all : tn("bulk.conversations", selected.size);
  }
  form.onsubmit = (event) => {
    event.preventDefault();
    try {
      const steps = submit(form, event.submitter);
      dialog.close();
      run(steps);
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  };
  dialog.showModal();
}

async function askAssignee() {
  const dialog = document.getElementById("bulk-assign-dialog");
  const fresh = await fetchFragment(bar().dataset.assigneesUrl);
  const select = fresh?.querySelector("select");
  if (select) dialog.querySelector("#bulk-assign-to").replaceWith(select);
  ask(dialog, (form) => {
    const [kind, value] = form.querySelector("#bulk-assign-to").value.split(":");
    return [{ action: "assign", params: kind === "team" ? { team_id: Number(value) } : { user_id: Number(value) } }];
  });
  dialog.querySelector("#bulk-assign-to").focus();
}

function askSnooze() {
  const dialog = document.getElementById("bulk-snooze-dialog");
  const presets = snoozePresets(new Date());
  const input = dialog.querySelector("#bulk-snooze-until");
  input.min = toLocalInput(new Date());
  input.value = "";
  for (const [name, date] of Object.entries(presets)) {
    const label = dialog.querySelector(`[data-preset-label="${name}"]`);
    label.textContent = date.toLocaleString(lang(), { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }
  dialog.onclick = (event) => {
    const preset = event.target.closest("[data-snooze-preset]");
    if (!preset) return;
    dialog.close();
    run([{ action: "snooze", params: { until: presets[preset.dataset.snoozePreset].toISOString() } }]);
  };
  ask(dialog, () => {
    if (!input.value) throw new Error(t("dialog.pick_time"));
    return [{ action: "snooze", params: { until: new Date(input.value).toISOString() } }];
  });
}

/** Labels to add or take off: the pane's picker (fetched fresh), its filter box; Add
 * and Remove run one job per label ticked. */
async function askLabels() {
  const dialog = document.getElementById("bulk-label-dialog");
  const fresh = await fetchFragment(bar().dataset.labelPickerUrl);
  const choices = fresh?.querySelector("#bulk-label-choices");
  if (choices) dialog.querySelector("#bulk-label-choices").replaceWith(choices);
  const filter = dialog.querySelector("#bulk-label-filter");
  filter.value = "";
  filterLabels(dialog);
  filter.oninput = () => filterLabels(dialog);
  filter.onkeydown = (event) => {
    // Enter ticks the only label left, as in the pane's picker (it does not submit).
    if (event.key !== "Enter") return;
    event.preventDefault();
    const visible = [...dialog.querySelectorAll(".label-choice:not([hidden]) input")];
    if (visible.length === 1) visible[0].click();
  };
  ask(dialog, (form, submitter) => {
    const ticked = [...form.querySelectorAll("#bulk-label-choices input:checked")];
    if (!ticked.length) throw new Error(t("dialog.tick_label"));
    const action = submitter?.value === "unlabel" ? "unlabel" : "label";
    return ticked.map((box) => ({ action, params: { label_id: Number(box.value) }, what: box.dataset.labelName }));
  });
  filter.focus();
}

function askPriority() {
  const dialog = document.getElementById("bulk-priority-dialog");
  for (const radio of dialog.querySelectorAll("input[name=priority]")) radio.checked = false;
  ask(dialog, (form) => {
    const chosen = form.querySelector("input[name=priority]:checked");
    if (!chosen) throw new Error(t("dialog.choose_priority"));
    const name = chosen.labels[0]?.textContent.trim() ?? chosen.value;
    const what = chosen.value === "none" ? t("bulk.priority_removed") : t("bulk.priority_as", { name });
    return [{ action: "priority", params: { priority: chosen.value }, what }];
  });
  dialog.querySelector("input[name=priority]").focus();
}

/** Close; with the closing note the workspace asks for (the same for every one). */
function askClose() {
  const dialog = document.getElementById("bulk-close-dialog");
  if (!dialog) return run([{ action: "close" }]); // closing notes are off
  const note = dialog.querySelector("textarea");
  note.value = "";
  ask(dialog, () => {
    const text = note.value.trim();
    if (!text && dialog.dataset.mode === "mandatory") throw new Error(t("dialog.closing_note_required"));
    return [{ action: "close", params: text ? { note: text } : {} }];
  });
  note.focus();
  return null;
}

/** A macro the user sees (shared and their own), run on each selected conversation. */
async function askMacro() {
  const dialog = document.getElementById("bulk-macro-dialog");
  const select = dialog.querySelector("#bulk-macro-choice");
  let macros = [];
  let problem = null;
  try {
    macros = await loadMacros();
  } catch (error) {
    problem = error.message;
  }
  select.replaceChildren(...macros.map((macro) => new Option(macro.name, String(macro.id))));
  select.hidden = macros.length === 0;
  dialog.querySelector("[data-macros-none]").hidden = macros.length > 0;
  ask(dialog, (form) => {
    const chosen = form.querySelector("#bulk-macro-choice").selectedOptions[0];
    if (!chosen) throw new Error(t("dialog.choose_macro"));
    return [{ action: "macro", params: { macro_id: Number(chosen.value) }, title: t("bulk.macro_title", { name: chosen.text }) }];
  });
  if (problem) {
    const error = dialog.querySelector(".dialog-error");
    error.textContent = problem;
    error.hidden = false;
  }
  select.focus();
}

const ACTIONS = {
  macro: askMacro,
  assign: askAssignee,
  snooze: askSnooze,
  label: askLabels,
  priority: askPriority,
  close: askClose,
  unassign: () => run([{ action: "unassign" }]),
  reopen: () => run([{ action: "reopen" }]),
};

function onClick(event) {
  const cell = event.target.closest("#rows .row-select");
  if (cell) {
    const box = cell.querySelector("[data-select]");
    if (event.target === box) {
      choose(box.value, box.checked, event.shiftKey);
    } else {
      // A click beside the box: do it here, with the shift key the label would drop.
      event.preventDefault();
      choose(box.value, !box.checked, event.shiftKey);
    }
    return;
  }
  if (!event.target.closest("#bulk-bar")) return;
  if (event.target.closest("button[data-select-matching]")) {
    matching = true;
    render();
  } else if (event.target.closest("[data-bulk-clear]")) {
    clearSelection();
  } else if (event.target.closest("[data-bulk-dismiss]")) {
    bar().querySelector("[data-bulk-done]").hidden = true;
    render();
  } else {
    const button = event.target.closest("[data-bulk]");
    if (button && !busy) ACTIONS[button.dataset.bulk]();
  }
}

function onChange(event) {
  if (!event.target.matches("[data-select-page]")) return;
  matching = false;
  if (event.target.checked) for (const box of boxes()) selected.add(box.value);
  else selected.clear();
  render();
}

export function setUpBulk() {
  document.addEventListener("click", onClick);
  document.addEventListener("change", onChange);
  // Rows come and go (paging, live updates): keep their boxes showing the selection.
  const rows = document.getElementById("rows");
  if (rows) new MutationObserver(render).observe(rows, { childList: true });
  render();
}
