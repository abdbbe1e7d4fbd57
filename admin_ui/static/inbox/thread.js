// The open conversation: opening it without a page load, older messages as the user
// scrolls up, and new or changed items merged in when something happens.

import { api, expand, fetchFragment, inbox, replaceById } from "./dom.js";
import { markCurrent, refreshRow } from "./list.js";
import { labelDays } from "./days.js";
import { keepRemoteImages } from "./email.js";
import { localizeTimes } from "./time.js";
import { t } from "./strings.js";

/** The open conversation's pane element, if one is open. */
export function openPane() {
  return document.querySelector("#conversation .pane");
}

function scrollToEnd(timeline) {
  timeline.scrollTop = timeline.scrollHeight;
}

/** Open a conversation in the pane; ``push`` adds it to the browser's history; ``item``
 * ("message:12") loads the timeline back to that item, scrolls to it and highlights it. */
export async function openConversation(conversationId, { push = true, item = null } = {}) {
  const url = new URL(expand(inbox().dataset.paneUrl, conversationId), location.href);
  if (item) url.searchParams.set("item", item);
  const fragment = await fetchFragment(url.pathname + url.search);
  if (!fragment) return;
  localizeTimes(fragment);
  const holder = document.getElementById("conversation");
  holder.replaceChildren(fragment);
  document.body.dataset.pane = "conversation";
  markCurrent(conversationId);
  if (push) history.pushState({ conversationId }, "", expand(inbox().dataset.pageUrl, conversationId));
  const title = holder.querySelector("#conversation-heading");
  document.title = t("thread.title", { name: title?.textContent ?? t("thread.conversation") });
  const timeline = holder.querySelector("#timeline");
  labelDays(timeline);
  scrollToEnd(timeline);
  watchOlder(timeline);
  if (item) highlight(item);
  holder.dispatchEvent(new CustomEvent("hub:pane-opened", { bubbles: true, detail: { conversationId } }));
  await markRead(conversationId);
}

/** Mark the conversation read, and refresh its row so its unread badge clears. */
async function markRead(conversationId) {
  try {
    await api("POST", `/api/v1/conversations/${conversationId}/read`);
    await refreshRow(conversationId);
  } catch {
    // Read marks are a courtesy: the next open marks it again.
  }
}

/** Scroll to a timeline item ("message:12") and highlight it for a moment. */
function highlight(item) {
  const element = document.querySelector(`#timeline [data-item="${CSS.escape(item)}"]`);
  if (!element) return false;
  for (const old of document.querySelectorAll("#timeline .highlighted")) old.classList.remove("highlighted");
  element.classList.add("highlighted");
  element.scrollIntoView({ block: "center" });
  element.focus({ preventScroll: true });
  return true;
}

/** Go to an item of the open conversation, loading the timeline back to it if needed. */
export async function jumpTo(item) {
  if (highlight(item)) return;
  const pane = openPane();
  if (pane) await openConversation(pane.dataset.conversationId, { push: false, item });
}

async function copyLink(link) {
  const url = new URL(link.getAttribute("href"), location.href).href;
  const status = document.getElementById("thread-status");
  try {
    await navigator.clipboard.writeText(url);
    link.textContent = t("thread.link_copied");
    if (status) status.textContent = t("thread.link_copied");
  } catch {
    // No clipboard (an insecure origin, a refusal): the link still opens the item.
    window.prompt(t("thread.copy_prompt"), url);
  }
  setTimeout(() => { link.textContent = t("thread.copy_link"); }, 2000);
}

async function retry(button) {
  button.disabled = true;
  try {
    await api("POST", `/api/v1/messages/${button.dataset.retry}/retry`);
    await syncTimeline();
  } catch (error) {
    button.disabled = false;
    alert(error.message);
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
    labelDays(timeline);
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
  let arrived = false;
  for (const item of [...fragment.querySelectorAll("[data-item]")]) {
    const old = document.getElementById(item.id);
    if (old) {
      if (old.classList.contains("highlighted")) item.classList.add("highlighted");
      old.replaceWith(item);
    } else {
      timeline.append(item);
      arrived ||= item.matches(".message.incoming");
    }
  }
  timeline.querySelector(".timeline-empty")?.remove();
  keepRemoteImages(timeline);
  labelDays(timeline);
  if (atEnd) scrollToEnd(timeline);
  // The agent is looking at it: what arrived is read (and the row's badge clears).
  if (arrived && document.visibilityState === "visible") await markRead(pane.dataset.conversationId);
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
  document.addEventListener("click", (event) => {
    const jump = event.target.closest("[data-jump]");
    const copy = event.target.closest("[data-copy-link]");
    const retryButton = event.target.closest("[data-retry]");
    if (event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (jump) {
      event.preventDefault();
      jumpTo(jump.dataset.jump);
    } else if (copy) {
      event.preventDefault();
      copyLink(copy);
    } else if (retryButton) {
      retry(retryButton);
    }
  });
  document.addEventListener("visibilitychange", () => {
    const pane = openPane();
    if (document.visibilityState === "visible" && pane) markRead(pane.dataset.conversationId);
  });
  window.addEventListener("popstate", (event) => {
    if (event.state?.conversationId) openConversation(event.state.conversationId, { push: false });
    else location.reload();
  });
  // The page of a conversation leaves its pane to this script, as a click does.
  const deferred = document.getElementById("pane-deferred");
  if (deferred) {
    openConversation(deferred.dataset.conversationId, { push: false, item: deferred.dataset.targetItem || null });
  }
  const timeline = document.getElementById("timeline");
  if (timeline) {
    labelDays(timeline);
    scrollToEnd(timeline);
    watchOlder(timeline);
    const target = openPane()?.dataset.targetItem;
    if (target) highlight(target);
  }
}
