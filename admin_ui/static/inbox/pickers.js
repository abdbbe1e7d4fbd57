// Suggestions while typing in the composer, in one listbox under the text:
//   "/" at the very start  → snippets (GET /api/v1/snippets?q=…), rendered for this
//                            conversation by the hub when chosen, their files added
//                            as the agent's own (checked against the channel);
//   "$" starting a word    → variables, inserted with their value here;
//   "@" starting a word    → people to mention (internal comments only).
// Keyboard: ↑/↓ move, Enter or Tab choose, Esc closes; the text keeps focus, and the
// active option is its aria-activedescendant.

import { addUploaded } from "./attachments.js";
import { api } from "./dom.js";
import { t, tn } from "./strings.js";

const state = new WeakMap(); // form → { kind, start, end, items, active, seq }
const mentions = new WeakMap(); // form → Map(name → user id) chosen in the picker
let hooks = { changed: () => {}, showError: () => {}, modeOf: () => "reply" };
let sequence = 0;

/** What the text before the caret asks for, if anything. */
function triggerOf(form, textarea) {
  const caret = textarea.selectionStart;
  if (caret !== textarea.selectionEnd) return null;
  const before = textarea.value.slice(0, caret);
  let match = /^\/(\S*)$/.exec(before);
  if (match) return { kind: "snippet", query: match[1], start: 0, end: caret };
  match = /(?:^|[\s([{"'])\$([\w.]*)$/.exec(before);
  if (match) return { kind: "variable", query: match[1], start: caret - match[1].length - 1, end: caret };
  match = /(?:^|[\s([{"'])@([^\s@]*)$/.exec(before);
  if (match && hooks.modeOf(form) === "comment") {
    return { kind: "mention", query: match[1], start: caret - match[1].length - 1, end: caret };
  }
  return null;
}

function snippetLabel(snippet) {
  const count = snippet.attachments.length;
  const files = count ? ` · ${tn("pickers.files", count)}` : "";
  return `/${snippet.shortcut} — ${snippet.name}${files}`;
}

async function itemsFor(form, trigger) {
  if (trigger.kind === "variable") {
    const wanted = `$${trigger.query}`.toLowerCase();
    return JSON.parse(form.dataset.variables)
      .filter((v) => v.value && v.name.toLowerCase().startsWith(wanted))
      .map((v) => ({ label: `${v.name} — ${v.value}`, value: v.value }));
  }
  const q = encodeURIComponent(trigger.query);
  if (trigger.kind === "snippet") {
    const page = await api("GET", `/api/v1/snippets?limit=8${q ? `&q=${q}` : ""}`);
    return page.items.map((s) => ({ label: snippetLabel(s), snippetId: s.id }));
  }
  const page = await api("GET", `/api/v1/users?active=true&limit=8${q ? `&q=${q}` : ""}`);
  return page.items.map((u) => ({ label: `${u.name} <${u.email}>`, value: `@${u.name} `, userId: u.id, name: u.name }));
}

function listbox(form) {
  return form.querySelector("#composer-suggestions");
}

/** Close the suggestions (after a choice, Esc, or sending). */
export function closeSuggestions(form) {
  state.delete(form);
  const box = listbox(form);
  if (!box) return;
  box.hidden = true;
  box.replaceChildren();
  form.querySelector("textarea[name=text]").removeAttribute("aria-activedescendant");
}

function show(form) {
  const current = state.get(form);
  const box = listbox(form);
  const textarea = form.querySelector("textarea[name=text]");
  box.replaceChildren(
    ...current.items.map((item, index) => {
      const option = document.createElement("li");
      option.id = `composer-option-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(index === current.active));
      option.dataset.index = index;
      option.textContent = item.label;
      return option;
    }),
  );
  if (!current.items.length) {
    const none = document.createElement("li");
    none.className = "suggestions-empty";
    none.textContent = { snippet: t("pickers.no_snippet"), variable: t("pickers.no_variable"), mention: t("pickers.no_one") }[current.kind];
    box.append(none);
  }
  box.hidden = false;
  if (current.items.length) {
    textarea.setAttribute("aria-activedescendant", `composer-option-${current.active}`);
    box.querySelector(`#composer-option-${current.active}`)?.scrollIntoView({ block: "nearest" });
  } else {
    textarea.removeAttribute("aria-activedescendant");
  }
}

async function update(form, textarea) {
  const trigger = triggerOf(form, textarea);
  if (!trigger) {
    if (state.has(form)) closeSuggestions(form);
    return;
  }
  const seq = ++sequence;
  let items;
  try {
    items = await itemsFor(form, trigger);
  } catch (error) {
    hooks.showError(form, error.message);
    return;
  }
  if (seq !== sequence || !form.isConnected) return; // a later keystroke asked again
  state.set(form, { ...trigger, items, active: 0 });
  show(form);
}

function replaceRange(textarea, start, end, text) {
  textarea.setRangeText(text, start, end, "end");
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

async function choose(form, index) {
  const current = state.get(form);
  const item = current?.items[index];
  if (!item) return;
  const textarea = form.querySelector("textarea[name=text]");
  closeSuggestions(form);
  if (current.kind === "snippet") {
    try {
      const rendered = await api("POST", `/api/v1/snippets/${item.snippetId}/render`, {
        conversation_id: Number(form.dataset.conversationId),
      });
      replaceRange(textarea, current.start, current.end, rendered.text);
      if (rendered.attachments.length) addUploaded(form, rendered.attachments);
    } catch (error) {
      hooks.showError(form, error.message);
    }
  } else {
    if (current.kind === "mention") {
      if (!mentions.has(form)) mentions.set(form, new Map());
      mentions.get(form).set(item.name, item.userId);
    }
    replaceRange(textarea, current.start, current.end, item.value);
  }
  textarea.focus();
  hooks.changed(form);
}

/** The ids of the people chosen in the picker whose @name is still in ``text``. */
export function mentionIds(form, text) {
  const chosen = mentions.get(form) ?? new Map();
  return [...chosen].filter(([name]) => text.includes(`@${name}`)).map(([, id]) => id);
}

function onKeydown(event) {
  const form = event.target.closest?.("#composer");
  const current = form && state.get(form);
  if (!current || event.ctrlKey || event.metaKey || event.altKey) return;
  const count = current.items.length;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (!count) return;
    event.preventDefault();
    current.active = (current.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
    show(form);
  } else if ((event.key === "Enter" || event.key === "Tab") && count) {
    event.preventDefault();
    choose(form, current.active);
  } else if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closeSuggestions(form);
  }
}

export function setUpPickers(given) {
  hooks = given;
  document.addEventListener("input", (event) => {
    if (event.target.matches("#composer textarea[name=text]")) update(event.target.form, event.target);
  });
  document.addEventListener("keydown", onKeydown);
  // mousedown, not click: the text keeps its focus and caret.
  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest("#composer-suggestions [role=option]");
    if (!option) return;
    event.preventDefault();
    choose(option.closest("#composer"), Number(option.dataset.index));
  });
  document.addEventListener("focusout", (event) => {
    if (event.target.matches?.("#composer textarea[name=text]")) {
      // Later, so a click on an option is taken first.
      setTimeout(() => {
        if (document.activeElement !== event.target && event.target.form) closeSuggestions(event.target.form);
      }, 150);
    }
  });
}
