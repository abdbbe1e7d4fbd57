// The command bar (Ctrl/⌘+K): one box to go to an inbox, act on the open conversation
// or open a contact's conversation. A combobox in a modal dialog: ↑/↓ choose, Enter
// runs, Esc closes (the dialog's own behaviour).
//
// The commands come from the page itself (the sidebar's links, the header's action
// buttons), so the bar offers exactly what the page does; contacts come from the REST
// API as the user types, and so do the labels (one "Add label …" or "Remove label …"
// each, read when the bar opens), next to "Set priority to …", the SLA policies ("Apply
// SLA policy …", "Remove the SLA policy") and the macros ("Run macro: …", also read when
// the bar opens).

import { setLabel, setPriority, setSla } from "./actions.js";
import { api } from "./dom.js";
import { loadMacros, runMacro } from "./macros.js";
import { openConversation, openPane } from "./thread.js";
import { t } from "./strings.js";

const PRIORITIES = ["urgent", "high", "medium", "low", "none"];
const LABELS_SHOWN = 100;
let knownLabels = [];
let knownMacros = [];
let knownPolicies = [];

const CONTACTS_SHOWN = 5;
const TYPING_PAUSE_MS = 200;

let commands = [];
let active = -1;
let contactSearch = 0; // which search is the latest, so a late answer is dropped

function dialog() {
  return document.getElementById("command-bar");
}

function input() {
  return document.getElementById("command-input");
}

function setStatus(text) {
  const status = document.getElementById("command-status");
  if (status) status.textContent = text;
}

/** The commands the page offers now: its inboxes and the open conversation's actions. */
function pageCommands() {
  const found = [];
  const pane = openPane();
  if (pane) {
    const name = pane.querySelector("#conversation-heading")?.textContent.trim() ?? "";
    for (const button of pane.querySelectorAll("#pane-head [data-action]")) {
      const label = button.textContent.trim();
      found.push({
        group: t("command.group.conversation"),
        label: t("command.on", { action: label, name }),
        run: () => button.click(),
      });
    }
    const id = pane.dataset.conversationId;
    // A merged conversation takes no reply, close, reopen or triage: its thread goes on
    // in the target, and its header offers none of them; no macro either.
    const merged = Boolean(pane.querySelector("#merged-notice"));
    if (!merged) found.push(...triageCommands(pane, name));
    for (const macro of merged ? [] : knownMacros) {
      found.push({ group: t("command.group.macro"), label: t("command.run_macro", { macro: macro.name, name }), run: () => runMacro(id, macro.id) });
    }
  }
  for (const link of document.querySelectorAll("#inbox-sidebar a[data-view]")) {
    const name = link.querySelector(".view-name")?.textContent.trim() ?? link.textContent.trim();
    found.push({ group: t("command.group.inbox"), label: t("command.go_to", { name }), run: () => location.assign(link.href) });
  }
  return found;
}

/** Label and priority commands for the open conversation. */
function triageCommands(pane, name) {
  const id = pane.dataset.conversationId;
  const head = pane.querySelector("#pane-head");
  const carried = new Set((head?.dataset.labelIds ?? "").split(" ").filter(Boolean));
  const current = head?.dataset.priority ?? "none";
  const found = knownLabels.map((label) => {
    const on = carried.has(String(label.id));
    return {
      group: t("command.group.label"),
      label: t(on ? "command.remove_label" : "command.add_label", { label: label.name, name }),
      run: () => setLabel(id, label.id, !on),
    };
  });
  for (const value of PRIORITIES) {
    if (value === current) continue;
    const priority = t(`priority.${value}`);
    found.push({ group: t("command.group.priority"), label: t("command.set_priority", { priority, name }), run: () => setPriority(id, value) });
  }
  const policy = head?.dataset.slaPolicyId ?? "";
  for (const each of knownPolicies) {
    if (String(each.id) === policy) continue;
    found.push({ group: t("command.group.sla"), label: t("command.apply_sla", { policy: each.name, name }), run: () => setSla(id, each.id) });
  }
  if (policy) found.push({ group: t("command.group.sla"), label: t("command.remove_sla", { name }), run: () => setSla(id, null) });
  return found;
}

/** Read the SLA policies (for the "Apply SLA policy" commands), then list the commands again. */
async function loadPolicies() {
  try {
    const page = await api("GET", "/api/v1/sla-policies");
    knownPolicies = page?.items ?? [];
  } catch {
    return; // as for labels: the other commands still work
  }
  if (dialog()?.open) refresh();
}

/** Read the labels (for the label commands), then list the commands again. */
async function loadLabels() {
  try {
    const page = await api("GET", `/api/v1/labels?limit=${LABELS_SHOWN}`);
    knownLabels = page?.items ?? [];
  } catch {
    return; // the other commands still work; the label ones wait for the next opening
  }
  if (dialog()?.open) refresh();
}

/** Read the macros (for the "Run macro" commands), then list the commands again. */
async function loadMacroCommands() {
  try {
    knownMacros = await loadMacros();
  } catch {
    return; // as for labels: the other commands still work
  }
  if (dialog()?.open) refresh();
}

function matches(command, words) {
  const label = command.label.toLowerCase();
  return words.every((word) => label.includes(word));
}

/** Show ``list`` as the options, the first one active. */
function show(list) {
  commands = list;
  const options = document.getElementById("command-options");
  options.replaceChildren(
    ...list.map((command, index) => {
      const option = document.createElement("li");
      option.id = `command-option-${index}`;
      option.className = "command-option";
      option.setAttribute("role", "option");
      option.dataset.index = String(index);
      const group = document.createElement("span");
      group.className = "command-group";
      group.textContent = command.group;
      const label = document.createElement("span");
      label.className = "command-label";
      label.textContent = command.label;
      option.append(label, group);
      return option;
    }),
  );
  setActive(list.length ? 0 : -1);
  setStatus(list.length ? "" : t("command.nothing"));
}

function setActive(index) {
  active = index;
  for (const option of document.querySelectorAll("#command-options [role=option]")) {
    const chosen = Number(option.dataset.index) === index;
    option.setAttribute("aria-selected", chosen ? "true" : "false");
    if (chosen) option.scrollIntoView({ block: "nearest" });
  }
  if (index >= 0) input().setAttribute("aria-activedescendant", `command-option-${index}`);
  else input().removeAttribute("aria-activedescendant");
}

/** Contacts whose name, email or phone match, each opening their latest conversation. */
async function contactCommands(text) {
  const query = new URLSearchParams({ q: text, limit: String(CONTACTS_SHOWN) });
  const page = await api("GET", `/api/v1/contacts?${query}`);
  return (page?.items ?? []).map((contact) => ({
    group: t("command.group.contact"),
    label: t("command.open_contact", { name: contact.name || contact.email || contact.phone || t("command.contact") }),
    run: () => openContact(contact.id),
  }));
}

/** Open the contact's most recent conversation the user may see. */
async function openContact(contactId) {
  const query = new URLSearchParams({ status: "all", contact_id: String(contactId), limit: "1" });
  let page;
  try {
    page = await api("GET", `/api/v1/conversations?view=all&${query}`);
  } catch (error) {
    // A restricted agent has no "All" view: their own conversations are what they see.
    if (error.status !== 403) throw error;
    page = await api("GET", `/api/v1/conversations?view=mine&${query}`);
  }
  const conversation = page?.items?.[0];
  if (!conversation) throw new Error(t("command.no_conversation"));
  await openConversation(conversation.id);
}

let typingTimer = 0;

function refresh() {
  const text = input().value.trim();
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const fromPage = pageCommands().filter((command) => matches(command, words));
  show(fromPage);
  clearTimeout(typingTimer);
  if (text.length < 2) return;
  const search = ++contactSearch;
  typingTimer = setTimeout(async () => {
    try {
      const contacts = await contactCommands(text);
      if (search === contactSearch && contacts.length) show([...fromPage, ...contacts]);
    } catch (error) {
      if (search === contactSearch) setStatus(error.message);
    }
  }, TYPING_PAUSE_MS);
}

async function run(index) {
  const command = commands[index];
  if (!command) return;
  dialog().close();
  try {
    await command.run();
  } catch (error) {
    alert(error.message);
  }
}

/** Open the command bar with an empty box and every page command listed. */
export function openCommandBar() {
  const bar = dialog();
  if (!bar || bar.open) return;
  input().value = "";
  contactSearch += 1;
  bar.showModal();
  refresh();
  input().focus();
  if (openPane()) {
    loadLabels();
    loadMacroCommands();
    loadPolicies();
  }
}

export function setUpCommandBar() {
  const bar = dialog();
  if (!bar) return;
  input().addEventListener("input", refresh);
  input().addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!commands.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((active + step + commands.length) % commands.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      run(active);
    }
  });
  document.getElementById("command-options").addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) run(Number(option.dataset.index));
  });
  // A click on the backdrop (the dialog element itself, outside its box) closes it.
  bar.addEventListener("click", (event) => {
    if (event.target === bar) bar.close();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-open-command-bar]")) openCommandBar();
  });
}
