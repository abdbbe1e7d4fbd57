// Times as the user reads them: in the browser's time zone, "14:05" today, "Mon 14:05"
// this week, a date otherwise, in the page's language (its <html lang>). The server writes UTC; this rewrites the text only.

import { lang } from "./strings.js";

const sameDay = (a, b) => a.toDateString() === b.toDateString();

export function formatTime(date, now = new Date()) {
  if (sameDay(date, now)) {
    return date.toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit" });
  }
  const days = (now - date) / 86_400_000;
  if (days < 6 && days > 0) {
    return date.toLocaleString(lang(), { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }
  return date.toLocaleDateString(lang(), { year: "numeric", month: "short", day: "numeric" });
}

/** Rewrite every <time datetime> inside root (the title keeps the full date and time). */
export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const date = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    // data-full: a time that matters to the minute wherever it is (a snooze's end).
    element.textContent = element.hasAttribute("data-full")
      ? date.toLocaleString(lang(), { dateStyle: "medium", timeStyle: "short" })
      : formatTime(date);
    element.title = date.toLocaleString(lang());
  }
}
