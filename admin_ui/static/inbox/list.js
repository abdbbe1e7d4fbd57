// The sidebar and the conversation list: paging as the user scrolls, and rows and
// counts refreshed from the server when something changes.

import { expand, fetchFragment, inbox, replaceById } from "./dom.js";
import { localizeTimes } from "./time.js";

/** Load the next page of rows when the "more" item scrolls into view. */
function watchMore(observer) {
  const more = document.querySelector("#rows [data-more]");
  if (more) observer.observe(more);
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

/**
 * Fetch one conversation's row as the current list shows it: replace it, add it at the
 * top (a list sorted newest first), or remove it when it left the list.
 */
export async function refreshRow(conversationId) {
  const fragment = await fetchFragment(expand(inbox().dataset.rowUrl, conversationId));
  const old = document.getElementById(`row-${conversationId}`);
  if (!fragment) {
    old?.remove();
    return;
  }
  localizeTimes(fragment);
  const fresh = fragment.firstElementChild;
  const rows = document.getElementById("rows");
  const currentOpen = document.querySelector(".pane")?.dataset.conversationId;
  if (String(conversationId) === currentOpen) {
    fresh.querySelector(".row-link")?.setAttribute("aria-current", "true");
  }
  const sort = new URL(inbox().dataset.rowsUrl, location.href).searchParams.get("sort") ?? "newest";
  if (sort === "newest") {
    old?.remove();
    rows.prepend(fresh);
  } else if (old) {
    old.replaceWith(fresh);
  }
  rows.querySelector(".rows-empty")?.remove();
}

/** Reload the sidebar's counts. */
export async function refreshSidebar() {
  const fragment = await fetchFragment(inbox().dataset.sidebarUrl);
  if (fragment) replaceById(fragment);
}

/** Reload the first page of the list (after a gap in the live updates). */
export async function reloadList(observer) {
  const fragment = await fetchFragment(inbox().dataset.rowsUrl);
  if (!fragment) return;
  localizeTimes(fragment);
  document.getElementById("rows").replaceChildren(fragment);
  watchMore(observer);
}

export function setUpList() {
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) loadMore(entry.target, observer);
  });
  watchMore(observer);
  // The sort and the unanswered filter apply as soon as they change.
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });
  return observer;
}
