// The open conversation: opening it without a page load, older messages as the user
// scrolls up, and new or changed items merged in when something happens.

import { api, expand, fetchFragment, inbox, replaceById } from "./dom.js";
import { markCurrent } from "./list.js";
import { localizeTimes } from "./time.js";

/** The open conversation's pane element, if one is open. */
export function openPane() {
  return document.querySelector("#conversation .pane");
}

function scrollToEnd(timeline) {
  timeline.scrollTop = timeline.scrollHeight;
}

/** Open a conversation in the pane; ``push`` adds it to the browser's history. */
export async function openConversation(conversationId, { push = true } = {}) {
  const fragment = await fetchFragment(expand(inbox().dataset.paneUrl, conversationId));
  if (!fragment) return;
  localizeTimes(fragment);
  const holder = document.getElementById("conversation");
  holder.replaceChildren(fragment);
  document.body.dataset.pane = "conversation";
  markCurrent(conversationId);
  if (push) history.pushState({ conversationId }, "", expand(inbox().dataset.pageUrl, conversationId));
  const title = holder.querySelector("#conversation-heading");
  document.title = `${title?.textContent ?? "Conversation"} · Inbox · Inbox Hub`;
  const timeline = holder.querySelector("#timeline");
  scrollToEnd(timeline);
  watchOlder(timeline);
  holder.dispatchEvent(new CustomEvent("hub:pane-opened", { bubbles: true, detail: { conversationId } }));
  await markRead(conversationId);
}

async function markRead(conversationId) {
  try {
    await api("POST", `/api/v1/conversations/${conversationId}/read`);
  } catch {
    // Read marks are a courtesy: the next open marks it again.
  }
}

/** Load the page of older items when "Earlier messages" scrolls into view. */
function watchOlder(timeline) {
  const older = timeline?.querySelector("[data-older]");
  if (!older) return;
  const observer = new IntersectionObserver(async (entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    observer.disconnect();
    const fragment = await fetchFragment(older.querySelector("[data-older-url]").href);
    if (!fragment) return;
    localizeTimes(fragment);
    // Keep what the user is reading where it is while items are added above it.
    const fromBottom = timeline.scrollHeight - timeline.scrollTop;
    older.replaceWith(fragment);
    timeline.scrollTop = timeline.scrollHeight - fromBottom;
    watchOlder(timeline);
  }, { root: timeline });
  observer.observe(older);
}

/**
 * Merge the newest timeline page into the open conversation: replace the items shown
 * (a delivery status changed) and append the new ones, in order.
 */
export async function syncTimeline() {
  const pane = openPane();
  if (!pane) return;
  const fragment = await fetchFragment(pane.dataset.latestUrl);
  if (!fragment || openPane() !== pane) return;
  localizeTimes(fragment);
  const timeline = pane.querySelector("#timeline");
  const atEnd = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 80;
  for (const item of [...fragment.querySelectorAll("[data-item]")]) {
    const old = document.getElementById(item.id);
    if (old) old.replaceWith(item);
    else timeline.append(item);
  }
  timeline.querySelector(".timeline-empty")?.remove();
  if (atEnd) scrollToEnd(timeline);
}

/** Reload the open conversation's header (status, assignee). */
export async function refreshHead() {
  const pane = openPane();
  if (!pane) return;
  const fragment = await fetchFragment(pane.dataset.headUrl);
  if (fragment && openPane() === pane) {
    localizeTimes(fragment);
    replaceById(fragment);
  }
}

export function setUpThread() {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("#rows .row-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    openConversation(link.closest("[data-conversation-id]").dataset.conversationId);
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-back]")) {
      event.preventDefault();
      document.body.dataset.pane = "list";
    } else if (event.target.closest("[data-show-contact]")) {
      document.body.dataset.pane = "contact";
    } else if (event.target.closest("[data-hide-contact]")) {
      document.body.dataset.pane = "conversation";
    }
  });
  window.addEventListener("popstate", (event) => {
    if (event.state?.conversationId) openConversation(event.state.conversationId, { push: false });
    else location.reload();
  });
  const timeline = document.getElementById("timeline");
  if (timeline) {
    scrollToEnd(timeline);
    watchOlder(timeline);
  }
}
