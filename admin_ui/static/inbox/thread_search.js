// Search in the open conversation: GET /api/v1/search with its id; each result links
// to its item, and the words found are highlighted in the timeline.

import { api } from "./dom.js";
import { jumpTo, openPane } from "./thread.js";
import { tn } from "./strings.js";

/** Wrap each occurrence of ``query`` in the timeline's texts in <mark>. */
function highlight(timeline, query) {
  for (const mark of timeline.querySelectorAll("mark.search-hit")) {
    mark.replaceWith(document.createTextNode(mark.textContent));
  }
  timeline.normalize();
  if (!query) return;
  const needle = query.toLowerCase();
  const walker = document.createTreeWalker(timeline, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement.closest(".message-text, .email-body")
      && node.textContent.toLowerCase().includes(needle)
      ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT,
  });
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.textContent;
    const lower = text.toLowerCase();
    const pieces = [];
    let from = 0;
    for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
      pieces.push(document.createTextNode(text.slice(from, at)));
      const mark = document.createElement("mark");
      mark.className = "search-hit";
      mark.textContent = text.slice(at, at + needle.length);
      pieces.push(mark);
      from = at + needle.length;
    }
    pieces.push(document.createTextNode(text.slice(from)));
    node.replaceWith(...pieces);
  }
}

function resultItem(hit, query, pane) {
  const item = `${hit.type}:${hit.id}`;
  const li = document.createElement("li");
  const link = document.createElement("a");
  const url = new URL(pane.dataset.linkUrl, location.href);
  url.searchParams.set("item", item);
  link.href = url.pathname + url.search;
  link.dataset.jump = item;
  link.textContent = hit.snippet ?? hit.text ?? hit.body ?? item;
  li.append(link);
  return li;
}

async function run(form) {
  const pane = openPane();
  const query = form.querySelector("input[name=q]").value.trim();
  const list = form.querySelector("#thread-search-results");
  const summary = form.querySelector("#thread-search-summary");
  list.replaceChildren();
  if (!query) return;
  const params = new URLSearchParams({ q: query, conversation_id: pane.dataset.conversationId, limit: "50" });
  try {
    const page = await api("GET", `/api/v1/search?${params}`);
    const hits = page.items.filter((hit) => hit.type === "message" || hit.type === "comment");
    list.append(...hits.map((hit) => resultItem(hit, query, pane)));
    summary.textContent = tn("thread_search.matches", hits.length);
    highlight(pane.querySelector("#timeline"), query);
    if (hits.length) await jumpTo(`${hits[0].type}:${hits[0].id}`);
  } catch (error) {
    summary.textContent = error.message;
  }
}

export function setUpThreadSearch() {
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest('#pane-head [data-action="search"]');
    const done = event.target.closest("[data-search-close]");
    if (!toggle && !done) return;
    const form = document.getElementById("thread-search");
    if (!form) return;
    form.hidden = done ? true : !form.hidden;
    document.querySelector('#pane-head [data-action="search"]')?.setAttribute("aria-expanded", String(!form.hidden));
    if (form.hidden) highlight(openPane().querySelector("#timeline"), "");
    else form.querySelector("input").focus();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("#thread-search");
    if (!form) return;
    event.preventDefault();
    run(form);
  });
}
