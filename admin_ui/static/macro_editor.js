// The macro editor (/me/macros/new, /me/macros/{id}): an ordered list of actions, each
// cloned from the page's <template data-action-template="…">, with its own fields; Move
// up / Move down / Remove on each. Saving and deleting call the REST API
// (/api/v1/macros), which checks permissions and every reference, and whose errors name
// the action ("actions[2]…" or "actions.2…"): that action is marked and its message
// shown.

import {
  call,
  clearMarks,
  itemFrom,
  markItem,
  missingIn,
  moveItem,
  nameMoves,
  showSummary,
  valueOf,
} from "./item_editor.js";

const API = "/api/v1/macros";
const NOTE = "[data-action-error]";

const form = () => document.getElementById("macro-form");
const list = () => document.getElementById("macro-actions");
// The page's words, in its language (data-word-* on the form; {n}, {name} … filled here).
const word = (key) => form().dataset[key];

/** Say whether there are actions, and keep the Move buttons sensible. */
function renumber() {
  const items = [...list().children];
  document.querySelector("[data-no-actions]").hidden = items.length > 0;
  nameMoves(items, "action", { up: word("wordUp"), down: word("wordDown"), name: word("wordMoveName") });
}

/** A new action item of ``type``, its fields set from ``values`` (a stored action). */
function addAction(type, values = {}) {
  const template = document.querySelector(`template[data-action-template="${type}"]`);
  if (!template) return null;
  const item = itemFrom(template, values);
  list().append(item);
  renumber();
  return item;
}

const markAction = (index, message) =>
  markItem(list().children[index], NOTE, word("wordAction").replace("{n}", String(index + 1)), message);

/** Show the API's error; mark the action it names ("actions[2]…", "actions.2…"), if any. */
function showError(error) {
  const detail = error.details?.[0];
  const match = /^actions[[.](\d+)/.exec(detail?.field ?? "");
  const index = match ? Number(match[1]) : -1;
  if (index >= 0 && index < list().children.length) {
    showSummary(form(), markAction(index, detail.message));
  } else {
    showSummary(form(), error.message);
  }
}

/** The first action missing a field it needs (before asking the hub): marked; or null. */
function checkRequired() {
  for (const [index, item] of [...list().children].entries()) {
    const missing = missingIn(item);
    if (missing) return markAction(index, missing);
  }
  return null;
}

async function save(event) {
  event.preventDefault();
  clearMarks(form(), list().children, NOTE);
  const missing = checkRequired();
  if (missing) {
    showSummary(form(), missing);
    return;
  }
  const macroId = form().dataset.macroId;
  const body = {
    name: form().querySelector("#macro-name").value,
    actions: [...list().children].map((item) => valueOf(item)),
  };
  const shared = form().querySelector("#macro-shared");
  if (shared) body.shared = shared.checked;
  const button = form().querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await call(macroId ? "PATCH" : "POST", macroId ? `${API}/${macroId}` : API, body);
    location.assign(form().dataset.listUrl);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

async function remove() {
  const macroId = form().dataset.macroId;
  const name = form().querySelector("#macro-name").value;
  if (!confirm(word("wordConfirmDelete").replace("{name}", name))) return;
  try {
    await call("DELETE", `${API}/${macroId}`);
    location.assign(form().dataset.listUrl);
  } catch (error) {
    showError(error);
  }
}

function onClick(event) {
  const item = event.target.closest(".macro-action");
  if (event.target.closest("[data-add-action]")) {
    const added = addAction(document.getElementById("macro-add-type").value);
    added?.querySelector("select, input, textarea, button")?.focus();
  } else if (event.target.closest("[data-delete-macro]")) {
    remove();
  } else if (item && event.target.closest("[data-remove]")) {
    const next = item.nextElementSibling ?? item.previousElementSibling;
    item.remove();
    renumber();
    (next?.querySelector("[data-remove]") ?? document.getElementById("macro-add-type")).focus();
  } else if (item && event.target.closest("[data-move]")) {
    const button = event.target.closest("[data-move]");
    moveItem(item, button);
    renumber();
    button.disabled ? item.querySelector("[data-remove]").focus() : button.focus();
  }
}

function setUp() {
  if (!form()) return;
  for (const action of JSON.parse(form().dataset.actions || "[]")) addAction(action.type, action);
  renumber();
  form().addEventListener("submit", save);
  form().addEventListener("click", onClick);
}

setUp();
