// The words the scripts write themselves, in the page's language. The server lists them
// (admin_ui/inbox/js_strings.py, marked for the catalog) and the page hands them over as
// JSON in <script type="application/json" id="inbox-strings">, a data block the CSP lets
// be. Placeholders are Python's: "%(name)s" (and "%(num)d"), "%%" for a percent sign.

let table = null;

function strings() {
  if (table === null) {
    const block = document.getElementById("inbox-strings");
    try {
      table = block ? JSON.parse(block.textContent) : {};
    } catch {
      table = {};
    }
  }
  return table;
}

/** The page's language (its <html lang>), for Intl's formats. */
export function lang() {
  return document.documentElement.lang || "en";
}

function fill(text, params) {
  return text.replace(/%\((\w+)\)[sd]|%%/g, (whole, name) => {
    if (!name) return "%";
    return name in params ? String(params[name]) : whole;
  });
}

/** The string `key` with its placeholders filled from `params` (the key itself when the
 * page has no such string, so a missing one shows, and nothing breaks). */
export function t(key, params = {}) {
  const text = strings()[key];
  return fill(typeof text === "string" ? text : key, params);
}

/** A number as the page's language writes it ("1,234" / "1.234"). */
export function formatNumber(n) {
  return new Intl.NumberFormat(lang()).format(n);
}

/** The plural string `key` for `n` (its category by Intl.PluralRules); %(num)s is `n`. */
export function tn(key, n, params = {}) {
  const forms = strings()[key];
  if (!forms || typeof forms !== "object") return fill(key, params);
  const category = new Intl.PluralRules(lang()).select(n);
  return fill(forms[category] ?? forms.other ?? key, { num: formatNumber(n), ...params });
}
