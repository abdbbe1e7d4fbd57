// The bell: its menu (a disclosure), reading through the REST API, live refreshes on
// "notification" and "notifications.read" events, and, when the user opted in, a
// desktop notification and a short sound while the tab is hidden.

import { api, fetchFragment, replaceById } from "./dom.js";
import { localizeTimes } from "./time.js";
import { openConversation } from "./thread.js";
import { t } from "./strings.js";

const SETTINGS_URL = "/api/v1/me/notification-settings";

function bell() {
  return document.getElementById("notifications");
}

function menuOpen() {
  return document.getElementById("bell-button")?.getAttribute("aria-expanded") === "true";
}

function setMenu(open, { focusButton = false } = {}) {
  const button = document.getElementById("bell-button");
  const menu = document.getElementById("notifications-menu");
  if (!button || !menu) return;
  button.setAttribute("aria-expanded", String(open));
  menu.hidden = !open;
  if (open) showOptIn();
  if (!open && focusButton) button.focus();
}

/** Fetch the bell again, keeping its menu open if it was. */
export async function refreshBell() {
  const current = bell();
  if (!current) return;
  const fragment = await fetchFragment(current.dataset.url);
  if (!fragment) return;
  // Read when swapping, not before the fetch: the user may have closed it meanwhile.
  const wasOpen = menuOpen();
  const hadFocus = bell()?.contains(document.activeElement) ? document.activeElement.id || "bell-button" : null;
  localizeTimes(fragment);
  replaceById(fragment);
  setMenu(wasOpen);
  if (hadFocus) document.getElementById(hadFocus)?.focus();
}

/** Offer desktop notifications where the browser has them and they are not on yet. */
function showOptIn() {
  const button = bell()?.querySelector("[data-desktop-optin]");
  if (!button) return;
  const supported = "Notification" in window;
  const on = bell().dataset.desktop === "on" && supported && Notification.permission === "granted";
  button.hidden = !supported || on || Notification.permission === "denied";
}

async function optIn() {
  // The browser asks only now, on the user's click, never on page load.
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return showOptIn();
  const settings = await api("GET", SETTINGS_URL);
  await api("PUT", SETTINGS_URL, { ...settings, desktop: true });
  bell().dataset.desktop = "on";
  showOptIn();
}

async function openNotification(link) {
  setMenu(false);
  const unread = link.dataset.unread === "true";
  if (unread) {
    try {
      await api("POST", `/api/v1/notifications/${link.dataset.notification}/read`);
    } catch {
      // Gone or hidden meanwhile: opening still shows what there is.
    }
  }
  const conversationId = link.dataset.conversationId;
  if (conversationId && document.getElementById("conversation")) await openConversation(conversationId);
  else window.location.href = link.href;
  await refreshBell();
}

function describe(data) {
  const titles = {
    message: t("notify.message"),
    mention: t("notify.mention"),
    assigned: t("notify.assigned"),
    snooze_ended: t("notify.snooze_ended"),
    sla_breached: t("notify.sla_breached"),
  };
  return { title: titles[data.kind] ?? "Inbox Hub", body: data.excerpt ?? "" };
}

/** Tell a user who is looking elsewhere: a desktop notification and a sound, if wanted. */
function alertHidden(data) {
  if (!document.hidden) return;
  const current = bell();
  if (current?.dataset.sound === "on") {
    const audio = new Audio(current.dataset.soundUrl);
    audio.play().catch(() => {}); // a browser that blocks autoplay just stays quiet
  }
  if (current?.dataset.desktop === "on" && "Notification" in window && Notification.permission === "granted") {
    const { title, body } = describe(data);
    const notice = new Notification(title, { body, tag: `hub-${data.kind}-${data.conversation_id}` });
    notice.addEventListener("click", () => {
      window.focus();
      if (data.conversation_id) openConversation(data.conversation_id);
      notice.close();
    });
  }
}

export function setUpNotifications() {
  document.addEventListener("click", (event) => {
    const inside = event.target.closest("#notifications");
    if (!inside) {
      if (menuOpen()) setMenu(false);
      return;
    }
    if (event.target.closest("#bell-button")) return setMenu(!menuOpen());
    if (event.target.closest("[data-read-all]")) {
      api("POST", "/api/v1/notifications/read-all").then(refreshBell, refreshBell);
      return;
    }
    if (event.target.closest("[data-desktop-optin]")) return void optIn();
    const link = event.target.closest("[data-notification]");
    if (link && !(event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) {
      event.preventDefault();
      openNotification(link);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menuOpen()) {
      event.preventDefault();
      setMenu(false, { focusButton: true });
    }
  });
  document.addEventListener("hub:event", (event) => {
    const { type, data } = event.detail;
    if (type === "notification") {
      refreshBell();
      alertHidden(data);
    } else if (type === "notifications.read") {
      refreshBell();
    } else if (type === "notification_settings.updated" && bell()) {
      bell().dataset.desktop = data.desktop ? "on" : "off";
      bell().dataset.sound = data.sound ? "on" : "off";
    }
  });
}
