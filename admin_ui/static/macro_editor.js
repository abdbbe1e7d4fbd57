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
    for (const button of item.querySelectorAll(".macro-action-moves button")) {
      button.setAttribute("aria-label", `${button.textContent}: action ${index + 1}, ${title}`);
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

/** Show the API's error; mark the action it names, if any. */
function showError(error) {
  const box = form().querySelector(".form-error");
  box.textContent = error.message;
  box.hidden = false;
  const field = error.details?.[0]?.field ?? "";
  const match = /^actions[[.](\d+)/.exec(field);
  const item = match ? list().children[Number(match[1])] : null;
  if (item) {
    item.classList.add("has-error");
    const note = item.querySelector("[data-action-error]");
    note.textContent = error.details[0].message;
    note.hidden = false;
  }
  box.focus();
}

async function save(event) {
  event.preventDefault();
  clearErrors();
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
