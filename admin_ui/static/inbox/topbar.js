// The top bar: the availability switch (PUT /api/v1/me/availability) and the user menu,
// which closes on Escape or a click elsewhere.

import { api } from "./dom.js";

async function toggleAvailability(button) {
  const available = button.getAttribute("aria-checked") !== "true";
  button.disabled = true;
  try {
    const user = await api("PUT", "/api/v1/me/availability", { available });
    button.setAttribute("aria-checked", String(user.available));
    button.querySelector(".availability-label").textContent = user.available ? "Available" : "Away";
  } catch (error) {
    button.title = error.message;
  } finally {
    button.disabled = false;
  }
}

export function setUpTopbar() {
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
