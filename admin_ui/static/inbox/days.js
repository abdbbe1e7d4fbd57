// Day separators in the timeline, in the browser's time zone: "Today", "Yesterday",
// or the date, before the first item of each day. Recomputed whenever items are added.

import { lang, t } from "./strings.js";

function dayLabel(date, now = new Date()) {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((today - day) / 86_400_000);
  if (days === 0) return t("days.today");
  if (days === 1) return t("days.yesterday");
  return date.toLocaleDateString(lang(), { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

/** Put a separator before the first visible item of each day in ``timeline``. */
export function labelDays(timeline) {
  if (!timeline) return;
  for (const old of timeline.querySelectorAll(".day-separator")) old.remove();
  let previous = null;
  for (const item of timeline.querySelectorAll("[data-item][data-at]:not([hidden])")) {
    const date = new Date(item.dataset.at);
    if (Number.isNaN(date.getTime())) continue;
    const key = date.toDateString();
    if (key !== previous) {
      const separator = document.createElement("div");
      separator.className = "day-separator";
      separator.setAttribute("role", "separator");
      separator.textContent = dayLabel(date);
      separator.setAttribute("aria-label", separator.textContent);
      item.before(separator);
      previous = key;
    }
  }
}
