// The macro editor (/me/macros/new, /me/macros/{id}): an ordered list of actions, each
// cloned from the page's <template data-action-template="…">, with its own fields; Move
// up / Move down / Remove on each. Saving and deleting call the REST API
// (/api/v1/macros), which checks permissions and every reference, and whose errors name
// the action ("actions[2]…" or "actions.2…"): that action is marked and its message
// shown.

const API = "/api/v1/macros";

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

const form = () => document.getElementById("macro-form");
const list = () => document.getElementById("macro-actions");

/** Say how many actions there are, and keep the Move buttons sensible. */
function renumber() {
  const items = [...list().children];
  document.querySelector("[data-no-actions]").hidden = items.length > 0;
  items.forEach((item, index) => {
    item.querySelector('[data-move="-1"]').disabled = index === 0;
    item.querySelector('[data-move="1"]').disabled = index === items.length - 1;
    const title = item.querySelector(".macro-action-title").textContent;
    // The visible words ("Up", "Remove") start each name, as speech input expects.
    const names = { "-1": "Up (move up)", 1: "Down (move down)" };
    for (const button of item.querySelectorAll(".macro-action-moves button")) {
      const name = names[button.dataset.move] ?? button.textContent;
      button.setAttribute("aria-label", `${name}: action ${index + 1}, ${title}`);
    }
  });
}

/** A new action item of ``type``, its fields set from ``values`` (a stored action). */
function addAction(type, values = {}) {
  const template = document.querySelector(`template[data-action-template="${type}"]`);
  if (!template) return null;
  const item = template.content.firstElementChild.cloneNode(true);
  for (const field of item.querySelectorAll("[data-field]")) {
    const name = field.dataset.field;
    if (field.dataset.kind === "ids") {
      const chosen = new Set((values[name] ?? []).map(String));
      for (const box of field.querySelectorAll("input[type=checkbox]")) box.checked = chosen.has(box.value);
    } else if (field.dataset.kind === "snooze") {
      const value = values.preset ?? (values.minutes ? String(values.minutes) : null);
      if (value && ![...field.options].some((option) => option.value === value)) {
        field.add(new Option(`for ${value} minutes`, value));
      }
      if (value) field.value = value;
    } else if (values[name] !== undefined && values[name] !== null) {
      field.value = String(values[name]);
    }
  }
  list().append(item);
  renumber();
  return item;
}

/** An action item as the API takes it. */
function actionOf(item) {
  const action = { type: item.dataset.type };
  for (const field of item.querySelectorAll("[data-field]")) {
    const name = field.dataset.field;
    const kind = field.dataset.kind;
    if (kind === "ids") {
      action[name] = [...field.querySelectorAll("input:checked")].map((box) => Number(box.value));
    } else if (kind === "snooze") {
      if (/^\d+$/.test(field.value)) action.minutes = Number(field.value);
      else action.preset = field.value;
    } else if (kind === "id") {
      if (field.value) action[name] = Number(field.value);
    } else if (field.value.trim() || field.tagName === "TEXTAREA") {
      action[name] = field.value;
    }
  }
  return action;
}

function clearErrors() {
  const box = form().querySelector(".form-error");
  box.hidden = true;
  box.textContent = "";
  for (const item of list().children) {
    item.classList.remove("has-error");
    item.querySelector("[data-action-error]").hidden = true;
  }
}

/** Mark one action as wrong, with ``message`` under it; the summary names it. */
function markAction(index, message) {
  const item = list().children[index];
  item.classList.add("has-error");
  const note = item.querySelector("[data-action-error]");
  note.textContent = message;
  note.hidden = false;
  const title = item.querySelector(".macro-action-title").textContent;
  return `Action ${index + 1} (${title}): ${message}`;
}

function showSummary(text) {
  const box = form().querySelector(".form-error");
  box.textContent = text;
  box.hidden = false;
  box.focus();
}

/** Show the API's error; mark the action it names ("actions[2]…", "actions.2…"), if any. */
function showError(error) {
  const detail = error.details?.[0];
  const match = /^actions[[.](\d+)/.exec(detail?.field ?? "");
  const index = match ? Number(match[1]) : -1;
  if (index >= 0 && index < list().children.length) {
    showSummary(markAction(index, detail.message));
  } else {
    showSummary(error.message);
  }
}

/** The first action missing a field it needs (before asking the hub): marked; or null. */
function checkRequired() {
  const items = [...list().children];
  for (const [index, item] of items.entries()) {
    for (const field of item.querySelectorAll("[data-required]")) {
      const empty = field.dataset.kind === "ids" ? !field.querySelector("input:checked") : !field.value.trim();
      if (empty) return markAction(index, field.dataset.required);
    }
  }
  return null;
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const missing = checkRequired();
  if (missing) {
    showSummary(missing);
    return;
  }
  const macroId = form().dataset.macroId;
  const body = {
    name: form().querySelector("#macro-name").value,
    actions: [...list().children].map(actionOf),
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
  if (!confirm(`Delete the macro “${name}”?`)) return;
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
    if (button.dataset.move === "-1") item.previousElementSibling?.before(item);
    else item.nextElementSibling?.after(item);
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
