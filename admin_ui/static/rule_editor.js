// The rule editor (/admin/rules/new, /admin/rules/{id}): two lists, the conditions and
// the ordered actions, each item cloned from the page's
// <template data-template="conditions:…"> / "actions:…" with its own fields. Saving and
// deleting go through the REST API (/api/v1/rules), which checks everything and whose
// errors name the item ("conditions[0].value", "actions[2]…", "actions.2…"): that item
// is marked and its message shown.

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

const API = "/api/v1/rules";
const LISTS = ["conditions", "actions"];
const NOTE = "[data-item-error]";

const form = () => document.getElementById("rule-form");
const listOf = (name) => document.querySelector(`[data-list="${name}"]`);
// The page's words, in its language (data-word-* on the form; {n}, {move}, {title}
// filled here), one set per list.
const word = (key) => form().dataset[key];
const WORDS = {
  conditions: { item: "wordCondition", moveName: "wordConditionMoveName" },
  actions: { item: "wordAction", moveName: "wordActionMoveName" },
};

/** Show "no items" hints, keep Up/Down sensible and give every button a full name. */
function renumber(name) {
  const items = [...listOf(name).children];
  document.querySelector(`[data-empty="${name}"]`).hidden = items.length > 0;
  nameMoves(items, name, { up: word("wordUp"), down: word("wordDown"), name: word(WORDS[name].moveName) });
}

/** A new item of ``type`` in list ``name``, its fields set from ``values``. */
function addItem(name, type, values = {}) {
  const template = document.querySelector(`template[data-template="${name}:${type}"]`);
  if (!template) return null;
  const item = itemFrom(template, values);
  listOf(name).append(item);
  renumber(name);
  return item;
}

const mark = (name, index, message) =>
  markItem(listOf(name).children[index], NOTE, word(WORDS[name].item).replace("{n}", String(index + 1)), message);

/** Show the API's error; mark the item it names, if any. */
function showError(error) {
  const detail = error.details?.[0];
  const match = /^(conditions|actions)[[.](\d+)/.exec(detail?.field ?? "");
  if (match && Number(match[2]) < listOf(match[1]).children.length) {
    showSummary(form(), mark(match[1], Number(match[2]), detail.message));
  } else {
    showSummary(form(), detail?.field ? `${detail.field}: ${detail.message}` : error.message);
  }
}

/** The first item missing a field it needs (before asking the hub): marked; or null. */
function checkRequired() {
  for (const name of LISTS) {
    for (const [index, item] of [...listOf(name).children].entries()) {
      const missing = missingIn(item);
      if (missing) return mark(name, index, missing);
    }
  }
  return null;
}

function showMinutes() {
  const timer = document.getElementById("rule-event").value === "no_reply";
  document.querySelector("[data-minutes-field]").hidden = !timer;
}

async function save(event) {
  event.preventDefault();
  clearMarks(form(), LISTS.flatMap((name) => [...listOf(name).children]), NOTE);
  const missing = checkRequired();
  if (missing) {
    showSummary(form(), missing);
    return;
  }
  const ruleId = form().dataset.ruleId;
  const body = {
    name: form().querySelector("#rule-name").value,
    event: form().querySelector("#rule-event").value,
    enabled: form().querySelector("#rule-enabled").checked,
    stop_processing: form().querySelector("#rule-stop").checked,
    // A condition's empty "value" is sent: the hub's answer names the condition.
    conditions: [...listOf("conditions").children].map((item) => valueOf(item, ["value"])),
    actions: [...listOf("actions").children].map((item) => valueOf(item)),
  };
  if (body.event === "no_reply") body.minutes = Number(form().querySelector("#rule-minutes").value);
  const button = form().querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await call(ruleId ? "PATCH" : "POST", ruleId ? `${API}/${ruleId}` : API, body);
    location.assign(form().dataset.listUrl);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

function onClick(event) {
  const item = event.target.closest(".macro-action");
  const name = item?.parentElement?.dataset.list;
  const add = event.target.closest("[data-add]");
  if (add) {
    const list = add.dataset.add;
    const select = document.getElementById(list === "actions" ? "rule-add-action" : "rule-add-condition");
    const added = addItem(list, select.value);
    added?.querySelector("select, input, textarea, button")?.focus();
  } else if (item && event.target.closest("[data-remove]")) {
    const next = item.nextElementSibling ?? item.previousElementSibling;
    item.remove();
    renumber(name);
    (next?.querySelector("[data-remove]") ?? document.querySelector(`[data-add="${name}"]`)).focus();
  } else if (item && event.target.closest("[data-move]")) {
    const button = event.target.closest("[data-move]");
    moveItem(item, button);
    renumber(name);
    button.disabled ? item.querySelector("[data-remove]").focus() : button.focus();
  }
}

function setUp() {
  if (!form()) return;
  for (const name of LISTS) {
    const key = name === "actions" ? "actions" : "conditions";
    for (const value of JSON.parse(form().dataset[key] || "[]")) addItem(name, value.type, value);
    renumber(name);
  }
  showMinutes();
  document.getElementById("rule-event").addEventListener("change", showMinutes);
  form().addEventListener("submit", save);
  form().addEventListener("click", onClick);
}

setUp();
