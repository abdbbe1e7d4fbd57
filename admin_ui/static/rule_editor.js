// The rule editor (/admin/rules/new, /admin/rules/{id}): two lists, the conditions and
// the ordered actions, each item cloned from the page's
// <template data-template="conditions:…"> / "actions:…" with its own fields. Saving and
// deleting go through the REST API (/api/v1/rules), which checks everything and whose
// errors name the item ("conditions[0].value", "actions[2]…", "actions.2…"): that item
// is marked and its message shown.

const API = "/api/v1/rules";
const LISTS = ["conditions", "actions"];

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok) return;
  const data = await response.json().catch(() => null);
  const error = new Error(data?.error?.message ?? `the hub answered ${response.status}`);
  error.details = data?.error?.details ?? [];
  throw error;
}

const form = () => document.getElementById("rule-form");
const listOf = (name) => document.querySelector(`[data-list="${name}"]`);
const NOUN = { conditions: "Condition", actions: "Action" };

/** Show "no items" hints, keep Up/Down sensible and give every button a full name. */
function renumber(name) {
  const items = [...listOf(name).children];
  document.querySelector(`[data-empty="${name}"]`).hidden = items.length > 0;
  items.forEach((item, index) => {
    const up = item.querySelector('[data-move="-1"]');
    const down = item.querySelector('[data-move="1"]');
    if (up) up.disabled = index === 0;
    if (down) down.disabled = index === items.length - 1;
    const title = item.querySelector(".macro-action-title").textContent;
    const names = { "-1": "Up (move up)", 1: "Down (move down)" };
    for (const button of item.querySelectorAll(".macro-action-moves button")) {
      const label = names[button.dataset.move] ?? button.textContent;
      button.setAttribute("aria-label", `${label}: ${NOUN[name].toLowerCase()} ${index + 1}, ${title}`);
    }
  });
}

/** A new item of ``type`` in list ``name``, its fields set from ``values``. */
function addItem(name, type, values = {}) {
  const template = document.querySelector(`template[data-template="${name}:${type}"]`);
  if (!template) return null;
  const item = template.content.firstElementChild.cloneNode(true);
  for (const field of item.querySelectorAll("[data-field]")) {
    const key = field.dataset.field;
    if (field.dataset.kind === "ids") {
      const chosen = new Set((values[key] ?? []).map(String));
      for (const box of field.querySelectorAll("input[type=checkbox]")) box.checked = chosen.has(box.value);
    } else if (field.dataset.kind === "snooze") {
      const value = values.preset ?? (values.minutes ? String(values.minutes) : null);
      if (value && ![...field.options].some((option) => option.value === value)) {
        field.add(new Option(`for ${value} minutes`, value));
      }
      if (value) field.value = value;
    } else if (values[key] !== undefined && values[key] !== null) {
      field.value = String(values[key]);
    }
  }
  listOf(name).append(item);
  renumber(name);
  return item;
}

/** An item as the API takes it. */
function valueOf(item) {
  const value = { type: item.dataset.type };
  for (const field of item.querySelectorAll("[data-field]")) {
    const key = field.dataset.field;
    const kind = field.dataset.kind;
    if (kind === "ids") {
      value[key] = [...field.querySelectorAll("input:checked")].map((box) => Number(box.value));
    } else if (kind === "snooze") {
      if (/^\d+$/.test(field.value)) value.minutes = Number(field.value);
      else value.preset = field.value;
    } else if (kind === "id") {
      if (field.value) value[key] = Number(field.value);
    } else if (field.value.trim() || field.tagName === "TEXTAREA" || key === "value") {
      value[key] = field.value;
    }
  }
  return value;
}

function clearErrors() {
  const box = form().querySelector(".form-error");
  box.hidden = true;
  box.textContent = "";
  for (const name of LISTS) {
    for (const item of listOf(name).children) {
      item.classList.remove("has-error");
      item.querySelector("[data-item-error]").hidden = true;
    }
  }
}

/** Mark one item as wrong, with ``message`` under it; the summary names it. */
function markItem(name, index, message) {
  const item = listOf(name).children[index];
  item.classList.add("has-error");
  const note = item.querySelector("[data-item-error]");
  note.textContent = message;
  note.hidden = false;
  const title = item.querySelector(".macro-action-title").textContent;
  return `${NOUN[name]} ${index + 1} (${title}): ${message}`;
}

function showSummary(text) {
  const box = form().querySelector(".form-error");
  box.textContent = text;
  box.hidden = false;
  box.focus();
}

/** Show the API's error; mark the item it names, if any. */
function showError(error) {
  const detail = error.details?.[0];
  const match = /^(conditions|actions)[[.](\d+)/.exec(detail?.field ?? "");
  if (match && Number(match[2]) < listOf(match[1]).children.length) {
    showSummary(markItem(match[1], Number(match[2]), detail.message));
  } else {
    showSummary(detail?.field ? `${detail.field}: ${detail.message}` : error.message);
  }
}

/** The first item missing a field it needs (before asking the hub): marked; or null. */
function checkRequired() {
  for (const name of LISTS) {
    for (const [index, item] of [...listOf(name).children].entries()) {
      for (const field of item.querySelectorAll("[data-required]")) {
        const empty = field.dataset.kind === "ids" ? !field.querySelector("input:checked") : !field.value.trim();
        if (empty) return markItem(name, index, field.dataset.required);
      }
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
  clearErrors();
  const missing = checkRequired();
  if (missing) {
    showSummary(missing);
    return;
  }
  const ruleId = form().dataset.ruleId;
  const body = {
    name: form().querySelector("#rule-name").value,
    event: form().querySelector("#rule-event").value,
    enabled: form().querySelector("#rule-enabled").checked,
    stop_processing: form().querySelector("#rule-stop").checked,
    conditions: [...listOf("conditions").children].map(valueOf),
    actions: [...listOf("actions").children].map(valueOf),
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
    if (button.dataset.move === "-1") item.previousElementSibling?.before(item);
    else item.nextElementSibling?.after(item);
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
