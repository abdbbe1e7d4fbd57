// Running macros on the open conversation: the composer's Macros button opens a menu of
// the macros the user sees (shared and their own, from the REST API), and the command
// bar offers "Run macro: …" from the same list. A run is one API call; the pane and its
// row then follow, and everyone else's through the ordinary live events.

import { refreshAfter, showError } from "./actions.js";
import { api } from "./dom.js";
import { openPane } from "./thread.js";
import { t } from "./strings.js";

const MACROS_SHOWN = 100;

/** The macros the user sees, by name. */
export async function loadMacros() {
  const page = await api("GET", `/api/v1/macros?limit=${MACROS_SHOWN}`);
  return page?.items ?? [];
}

/** Run a macro on a conversation; rejects with the API's message (which action failed). */
export async function runMacro(conversationId, macroId) {
  await api("POST", `/api/v1/macros/${macroId}/run`, { conversation_id: Number(conversationId) });
  await refreshAfter(conversationId);
}

/** One button per macro in the menu; the empty note when there is none. */
function fillMenu(dialog, macros) {
  const list = dialog.querySelector("[data-macro-list]");
  list.replaceChildren(
    ...macros.map((macro) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "macro-choice";
      button.dataset.macroId = String(macro.id);
      button.textContent = macro.name;
      const scope = document.createElement("span");
      scope.className = "muted";
      scope.textContent = macro.shared ? t("macros.shared") : t("macros.yours");
      button.append(" ", scope);
      item.append(button);
      return item;
    }),
  );
  dialog.querySelector("[data-macros-none]").hidden = macros.length > 0;
}

async function openMenu() {
  const pane = openPane();
  const dialog = pane?.querySelector("#macros-dialog");
  if (!dialog) return;
  showError(dialog, null);
  dialog.querySelector("[data-macros-status]").textContent = "";
  try {
    fillMenu(dialog, await loadMacros());
  } catch (error) {
    fillMenu(dialog, []);
    showError(dialog, error.message);
  }
  dialog.showModal();
  dialog.querySelector(".macro-choice")?.focus();
}

async function choose(button) {
  const pane = openPane();
  const dialog = button.closest("dialog");
  button.disabled = true;
  showError(dialog, null);
  try {
    await runMacro(pane.dataset.conversationId, button.dataset.macroId);
    dialog.close();
  } catch (error) {
    showError(dialog, error.message);
  } finally {
    button.disabled = false;
  }
}

export function setUpMacros() {
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-composer-macros]")) openMenu();
    const choice = event.target.closest("#macros-dialog .macro-choice");
    if (choice) choose(choice);
  });
}
