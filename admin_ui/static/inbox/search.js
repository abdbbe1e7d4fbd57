// The sidebar's search box: the hits replace the list in the list pane (the same
// fragment the search page shows), and the URL follows so a reload keeps them.

import { fetchFragment, inbox } from "./dom.js";
import { watchMore } from "./list.js";
import { localizeTimes } from "./time.js";

async function showResults(form, observer) {
  const q = form.elements.q.value.trim();
  if (!q) return;
  const url = new URL(inbox().dataset.searchUrl, location.href);
  url.searchParams.set("q", q);
  const fragment = await fetchFragment(url);
  if (!fragment) return;
  localizeTimes(fragment);
  const pane = document.getElementById("conversation-list");
  pane.replaceChildren(fragment);
  watchMore(observer);
  document.body.dataset.pane = "list";
  document.body.dataset.side = "closed";
  const page = new URL(form.action, location.href);
  page.search = new URLSearchParams(new FormData(form)).toString();
  history.pushState({ search: q }, "", page);
  pane.querySelector("#list-heading")?.focus({ preventScroll: true });
}

export function setUpSearch(observer) {
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-search]");
    if (!form) return;
    event.preventDefault();
    showResults(form, observer).catch(() => form.submit());
  });
}
