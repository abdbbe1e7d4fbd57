// Snooze presets in the browser's time zone: later today (+3 h), tomorrow at 9:00, and
// next week's Monday at 9:00.

function at(date, days, hour) {
  const when = new Date(date);
  when.setDate(when.getDate() + days);
  when.setHours(hour, 0, 0, 0);
  return when;
}

/** The presets' times, from ``now``. */
export function snoozePresets(now) {
  const daysToMonday = ((8 - now.getDay()) % 7) || 7;
  return {
    later: new Date(now.getTime() + 3 * 3_600_000),
    tomorrow: at(now, 1, 9),
    "next-week": at(now, daysToMonday, 9),
  };
}

/** A Date as a datetime-local input's value (the browser's zone, to the minute). */
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
