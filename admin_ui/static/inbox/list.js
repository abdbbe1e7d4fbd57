// The sidebar and the conversation list: paging as the user scrolls, rows and counts
// refreshed from the server when something changes, and the new-message dot of the
// inbox being looked at put out. A custom inbox does not update live: it says when it
// was listed and has a Refresh button.

import { api, expand, fetchFragment, inbox, replaceById } from "./dom.js";
import { localizeTimes } from "./time.js";
import { lang, t } from "./strings.js";

const view = () => inbox().dataset.view;
const isCustom = () => view().startsWith("custom:");
// Newest first, shortest-in-status first and priority (urgent first; its key weighs the
// priority above the time) list the largest sort key first.
const descending = () => ["newest", "shortest", "priority"].includes(inbox().dataset.sort ?? "newest");

/** Load the next page (of rows or search hits) when a "more" item scrolls into view. */
export function watchMore(observer) {
  for (const more of document.querySelectorAll("#conversation-list [data-more]")) observer.observe(more);
}

async function loadMore(item, observer) {
  observer.unobserve(item);
  const link = item.querySelector("[data-more-url]");
  const fragment = await fetchFragment(link.href);
  if (!fragment) return;
  localizeTimes(fragment);
  item.replaceWith(fragment);
  watchMore(observer);
}

/** Mark the open conversation's row. */
export function markCurrent(conversationId) {
  for (const link of document.querySelectorAll("#rows .row-link[aria-current]")) {
    link.removeAttribute("aria-current");
  }
  document.querySelector(`#row-${conversationId} .row-link`)?.setAttribute("aria-current", "true");
}

/** Whether row ``a`` comes before row ``b`` in the list's order (sort key, then id). */
function before(a, b) {
  const [ka, kb] = [BigInt(a.dataset.sortKey), BigInt(b.dataset.sortKey)];
  const [ia, ib] = [Number(a.dataset.conversationId), Number(b.dataset.conversationId)];
  if (ka !== kb) return descending() ? ka > kb : ka < kb;
  return descending() ? ia > ib : ia < ib;
}

/** Put a row where the server would list it among the rows loaded so far; past the last
 * one while more pages follow, it is left for paging to bring. */
function place(rows, fresh) {
  const next = [...rows.querySelectorAll(":scope > .row")].find((row) => before(fresh, row));
  if (next) rows.insertBefore(fresh, next);
  else if (!rows.querySelector(":scope > [data-more]")) rows.append(fresh);
}

/**
 * Fetch one conversation's row as the current list shows it and put it in its place,
 * or remove it when it left the list (closed on the Open tab, assigned away from Mine).
 * A custom inbox keeps its rows until the user refreshes it.
 */
export async function refreshRow(conversationId) {
  // A row fetched before the page's deferred rows arrive would be overwritten by them.
  await firstRows;
  const rows = document.getElementById("rows");
  if (!rows || isCustom()) return;
  const fragment = await fetchFragment(expand(inbox().dataset.rowUrl, conversationId));
  const old = document.getElementById(`row-${conversationId}`);
  if (!fragment) {
    if (!old) return;
    old.remove();
    if (!rows.querySelector(".row, [data-more]")) await reloadList();
    return;
  }
  localizeTimes(fragment);
  const fresh = fragment.firstElementChild;
  if (String(conversationId) === document.querySelector(".pane")?.dataset.conversationId) {
    fresh.querySelector(".row-link")?.setAttribute("aria-current", "true");
  }
  old?.remove();
  place(rows, fresh);
  if (fresh.isConnected) rows.querySelector(".rows-empty")?.remove();
}

/** Reload the sidebar's counts; the inbox being looked at keeps no dot. */
export async function refreshSidebar() {
  const fragment = await fetchFragment(inbox().dataset.sidebarUrl);
  if (!fragment) return;
  replaceById(fragment);
  applyScope();
  if (currentDot() && document.visibilityState === "visible") await markSeen();
}

let listObserver = null;
// The page with a conversation open comes without its rows: their first load, which
// live row updates wait for.
let firstRows = Promise.resolve();

/** Reload the first page of the list (after a gap in the live updates, or Refresh). */
export async function reloadList(observer = listObserver) {
  const rows = document.getElementById("rows");
  if (!rows) return;
  const fragment = await fetchFragment(inbox().dataset.rowsUrl);
  if (!fragment) return;
  localizeTimes(fragment);
  rows.replaceChildren(fragment);
  rows.removeAttribute("data-deferred");
  rows.removeAttribute("aria-busy");
  const open = document.querySelector(".pane")?.dataset.conversationId;
  if (open) markCurrent(open);
  watchMore(observer);
  const listed = document.querySelector("[data-custom-list] time[data-ago]");
  if (listed) {
    listed.setAttribute("datetime", new Date().toISOString());
    showAges();
  }
}

// --- the new-message dot -------------------------------------------------------------

function currentDot() {
  return document.querySelector(`#inbox-sidebar a[aria-current="page"] [data-dot]`);
}

/** Tell the hub this inbox was opened: its dot goes out until a new message arrives. */
async function markSeen() {
  try {
    await api("POST", "/api/v1/inbox/seen", { view: view() });
    currentDot()?.remove();
  } catch {
    // A dot left on is harmless: the next visit puts it out.
  }
}

// --- "last updated X ago" of custom inboxes --------------------------------------------

function age(date) {
  const minutes = Math.floor((Date.now() - date.getTime()) / 60_000);
  // "vor 5 Min.": the page's language says it its way; under a minute, the catalog's
  // "just now" (Intl's own would be "this minute").
  const relative = new Intl.RelativeTimeFormat(lang(), { style: "short" });
  if (minutes < 1) return t("list.just_now");
  if (minutes < 60) return relative.format(-minutes, "minute");
  const hours = Math.floor(minutes / 60);
  return hours < 24 ? relative.format(-hours, "hour") : date.toLocaleString(lang());
}

function showAges() {
  for (const time of document.querySelectorAll("time[data-ago]")) {
    const date = new Date(time.getAttribute("datetime"));
    time.textContent = age(date);
    time.title = date.toLocaleString(lang());
  }
}

// --- custom inboxes: All / By me / By others -----------------------------------------

let scope = "all";

function applyScope() {
  const group = document.querySelector("[data-custom-scope]");
  if (!group) return;
  group.hidden = false;
  for (const button of group.querySelectorAll("[data-scope]")) {
    button.setAttribute("aria-pressed", String(button.dataset.scope === scope));
  }
  for (const item of document.querySelectorAll("#custom-inboxes > li")) {
    item.hidden = scope !== "all" && item.dataset.owner !== scope;
  }
}

export function setUpList() {
  listObserver = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) loadMore(entry.target, listObserver);
  });
  watchMore(listObserver);
  if (document.getElementById("rows")?.hasAttribute("data-deferred")) firstRows = reloadList(listObserver);
  // The sort and the unanswered filter apply as soon as they change.
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });
  document.addEventListener("click", (event) => {
    const scopeButton = event.target.closest("[data-custom-scope] [data-scope]");
    if (scopeButton) {
      scope = scopeButton.dataset.scope;
      applyScope();
    }
    if (event.target.closest("[data-list-refresh]")) reloadList();
    const toggle = event.target.closest("[data-toggle-side]");
    if (toggle) {
      const open = document.body.dataset.side !== "open";
      document.body.dataset.side = open ? "open" : "closed";
      toggle.setAttribute("aria-expanded", String(open));
    }
  });
  for (const toggle of document.querySelectorAll("[data-toggle-side]")) toggle.hidden = false;
  document.body.classList.add("scripted");
  applyScope();
  showAges();
  setInterval(showAges, 30_000);
  if (currentDot()) markSeen();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && currentDot()) markSeen();
  });
  return listObserver;
}
