// Keyboard shortcuts of the inbox (the list of them: templates/inbox/_shortcuts.html).
//
// A shortcut never fires while the user types in a field or while a dialog is open: a
// letter typed into the composer is text, not a command. Esc clears a bulk selection;
// otherwise it is left to the browser, which closes a modal dialog by itself.

import { clearSelection, toggleFocused } from "./bulk.js";
import { openCommandBar } from "./command_bar.js";
import { openConversation, openPane } from "./thread.js";

/** Whether the key went to something the user types in. */
function typing(target) {
  // A checkbox or radio (a row's selection box) takes no text: shortcuts work there.
  const field = "input:not([type=checkbox], [type=radio]), textarea, select, [contenteditable]:not([contenteditable=false])";
  return Boolean(target?.closest?.(field));
}

function dialogOpen() {
  return Boolean(document.querySelector("dialog[open]"));
}

function rows() {
  return [...document.querySelectorAll("#rows > .row[data-conversation-id]")];
}

/** The row of the open conversation, if the list shows it. */
function currentRow() {
  const id = openPane()?.dataset.conversationId;
  return id ? document.getElementById(`row-${id}`) : null;
}

/** Open the conversation ``step`` rows away from the open one (the first with none open). */
export async function move(step) {
  const all = rows();
  if (!all.length) return;
  const current = currentRow();
  let index;
  if (!current) index = step > 0 ? 0 : all.length - 1;
  else index = all.indexOf(current) + step;
  if (index < 0 || index >= all.length) return;
  await openRow(all[index]);
}

async function openRow(row) {
  // Scrolling the row into view also lets the list load its next page when the
  // "more" item comes into sight.
  row.scrollIntoView({ block: "nearest" });
  await openConversation(row.dataset.conversationId);
}

/** The composer in reply or comment mode, focused. */
export function compose(mode) {
  const form = document.getElementById("composer");
  if (!form) return;
  const radio = form.querySelector(`input[name=mode][value=${mode}]`);
  if (radio && !radio.checked) {
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
  }
  form.querySelector("textarea")?.focus();
}

/** Click a header action (close, snooze, assign…) of the open conversation. */
export function act(name) {
  const button = document.querySelector(`#pane-head [data-action="${name}"]`);
  if (!button || button.disabled) return false;
  button.click();
  return true;
}

/**
 * Close the open conversation, then open the one after it in the list (or before it,
 * at the end). The next row is chosen before closing: a closed conversation leaves an
 * Open list. Waits for the header to say "closed", which may take a closing note first.
 */
function closeAndNext() {
  const pane = openPane();
  if (!pane) return;
  const all = rows();
  const index = all.indexOf(currentRow());
  const next = index >= 0 ? (all[index + 1] ?? all[index - 1]) : null;
  if (!act("close")) return;
  if (!next) return;
  const nextId = next.dataset.conversationId;
  const holder = document.getElementById("conversation");
  const observer = new MutationObserver(() => {
    if (openPane() !== pane) return observer.disconnect(); // the user went elsewhere
    if (pane.querySelector('#pane-head [data-action="reopen"]')) {
      observer.disconnect();
      const row = document.getElementById(`row-${nextId}`);
      if (row) openRow(row);
      else openConversation(nextId);
    }
  });
  observer.observe(holder, { childList: true, subtree: true });
  // Give up waiting after a while (a closing-note dialog cancelled, an error shown).
  setTimeout(() => observer.disconnect(), 120_000);
}

function showShortcuts() {
  document.getElementById("shortcuts-dialog")?.showModal();
}

/** The action of a key press, or null when it is not a shortcut. */
function shortcutFor(event) {
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "k") return openCommandBar;
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    if (key === "ArrowDown") return () => move(1);
    if (key === "ArrowUp") return () => move(-1);
    return null;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  switch (key) {
    case "j": return () => move(1);
    case "k": return () => move(-1);
    case "r": return () => compose("reply");
    case "c": return () => compose("comment");
    case "e": return closeAndNext;
    case "s": return () => act("snooze");
    case "a": return () => act("assign");
    case "x": return toggleFocused;
    case "l": return () => act("labels");
    case "p": return () => act("priority");
    case "/": return () => document.getElementById("inbox-search-q")?.focus();
    case "?": return showShortcuts;
    default: return null;
  }
}

export function setUpShortcuts() {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || dialogOpen()) return;
    // Esc leaves the composer for the thread, where the shortcuts work again.
    if (event.key === "Escape" && event.target.closest?.("#composer")) {
      event.preventDefault();
      document.getElementById("timeline")?.focus();
      return;
    }
    // Esc elsewhere clears a bulk selection, if there is one; else it is the browser's.
    if (event.key === "Escape" && !typing(event.target) && clearSelection()) {
      event.preventDefault();
      return;
    }
    const action = shortcutFor(event);
    if (!action) return;
    // Ctrl/⌘+K is no text, so it works in a field too; every other key there is typing.
    const isCommandBar = action === openCommandBar;
    if (!isCommandBar && typing(event.target)) return;
    event.preventDefault(); // e.g. "r" must not land in the composer it focuses
    action();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-open-shortcuts]")) showShortcuts();
  });
}
