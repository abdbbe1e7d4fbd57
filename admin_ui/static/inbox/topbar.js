// The top bar: the availability switch (PUT /api/v1/me/availability) and the user menu,
// which closes on Escape or a click elsewhere. The switch also follows `user.updated`
// events about you: your availability schedule (or you, in another tab) changed it.

import { api } from "./dom.js";
import { t } from "./strings.js";

function showAvailability(button, available) {
  button.setAttribute("aria-checked", String(available));
  button.querySelector(".availability-label").textContent = available ? t("topbar.available") : t("topbar.away");
}

async function toggleAvailability(button) {
  const available = button.getAttribute("aria-checked") !== "true";
  button.disabled = true;
  try {
    const user = await api("PUT", "/api/v1/me/availability", { available });
    showAvailability(button, user.available);
  } catch (error) {
    button.title = error.message;
  } finally {
    button.disabled = false;
  }
}

export function setUpTopbar() {
  document.addEventListener("hub:event", (event) => {
    const { type, data } = event.detail ?? {};
    const button = document.querySelector("[data-availability]");
    if (type !== "user.updated" || !button || typeof data?.available !== "boolean") return;
    if (String(data.user_id) === button.dataset.userId) showAvailability(button, data.available);
  });
  document.addEventListener("click", (event) => {
    const switchButton = event.target.closest("[data-availability]");
    if (switchButton) toggleAvailability(switchButton);
    for (const menu of document.querySelectorAll("details[data-menu][open]")) {
      if (!menu.contains(event.target)) menu.open = false;
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of document.querySelectorAll("details[data-menu][open]")) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}
