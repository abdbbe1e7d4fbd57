// What the macro editor and the rule editor share: lists of items (an action, a
// condition) cloned from the page's <template>s, each with fields marked
// data-field="…" data-kind="ids|snooze|id|text"; filling an item from a stored value
// and reading it back as the REST API takes it; the Up/Down buttons' state and names;
// the form's error summary; and calling the API with the page's CSRF token.

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** Call the REST API; rejects with its message, and ``details`` naming the field. */
export async function call(method, url, body) {
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

/** A new item cloned from ``template``, its fields set from ``values`` (a stored one). */
export function itemFrom(template, values = {}) {
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
  return item;
}

/** An item as the API takes it; an empty text field is left out (the hub then names
 * what is missing), unless it is a textarea or one of ``keepEmpty``. */
export function valueOf(item, keepEmpty = []) {
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
    } else if (field.value.trim() || field.tagName === "TEXTAREA" || keepEmpty.includes(key)) {
      value[key] = field.value;
    }
  }
  return value;
}

/** The message of the first required field of ``item`` left empty, or null. */
export function missingIn(item) {
  for (const field of item.querySelectorAll("[data-required]")) {
    const empty = field.dataset.kind === "ids" ? !field.querySelector("input:checked") : !field.value.trim();
    if (empty) return field.dataset.required;
  }
  return null;
}

/** Keep a list's Up/Down buttons sensible, and give each a full name ("Up (move up):
 * action 2, Assign"): the visible word first, as speech input expects. ``words``, when
 * the page gives them in its language: ``up``, ``down`` and ``name``, a pattern with
 * ``{move}``, ``{n}`` and ``{title}``. */
export function nameMoves(items, noun, words = null) {
  const names = { "-1": words?.up ?? "Up (move up)", 1: words?.down ?? "Down (move down)" };
  const fullName = (label, index, title) => words?.name
    ? words.name.replace("{move}", label).replace("{n}", String(index + 1)).replace("{title}", title)
    : `${label}: ${noun} ${index + 1}, ${title}`;
  items.forEach((item, index) => {
    const up = item.querySelector('[data-move="-1"]');
    const down = item.querySelector('[data-move="1"]');
    if (up) up.disabled = index === 0;
    if (down) down.disabled = index === items.length - 1;
    const title = item.querySelector(".macro-action-title").textContent;
    for (const button of item.querySelectorAll(".macro-action-moves button")) {
      const label = names[button.dataset.move] ?? button.textContent;
      button.setAttribute("aria-label", fullName(label, index, title));
    }
  });
}

/** Move ``item`` up or down its list as ``button`` says; keep the focus on the list. */
export function moveItem(item, button) {
  if (button.dataset.move === "-1") item.previousElementSibling?.before(item);
  else item.nextElementSibling?.after(item);
}

/** Mark ``item`` wrong with ``message`` in its ``noteSelector``; the summary's words. */
export function markItem(item, noteSelector, label, message) {
  item.classList.add("has-error");
  const note = item.querySelector(noteSelector);
  note.textContent = message;
  note.hidden = false;
  const title = item.querySelector(".macro-action-title").textContent;
  return `${label} (${title}): ${message}`;
}

/** Clear the marks of ``items`` and the form's summary. */
export function clearMarks(form, items, noteSelector) {
  const box = form.querySelector(".form-error");
  box.hidden = true;
  box.textContent = "";
  for (const item of items) {
    item.classList.remove("has-error");
    item.querySelector(noteSelector).hidden = true;
  }
}

/** Show ``text`` in the form's summary and move the focus there. */
export function showSummary(form, text) {
  const box = form.querySelector(".form-error");
  box.textContent = text;
  box.hidden = false;
  box.focus();
}
