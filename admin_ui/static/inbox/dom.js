// Small helpers every inbox module shares: fragments from the server, the REST API with
// the session's CSRF token, and URL templates from the page's data attributes.

import { t } from "./strings.js";

/** The session's CSRF token, which every write to the API carries. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** A URL template from a data attribute, with its "{id}" filled in. */
export function expand(template, id) {
  return template.replace("%7Bid%7D", encodeURIComponent(id)).replace("{id}", encodeURIComponent(id));
}

/** The inbox element holding the page's URL templates and state. */
export function inbox() {
  return document.getElementById("inbox");
}

/**
 * Fetch a fragment: the elements of its HTML, or null for a 204 (nothing to show).
 * A fragment answered by the login page (the session ended) reloads the page, which then
 * asks the user to log in.
 */
export async function fetchFragment(url) {
  const response = await fetch(url, { headers: { Accept: "text/html-fragment" }, credentials: "same-origin" });
  if (response.redirected && new URL(response.url).pathname.endsWith("/login")) {
    window.location.reload();
    return null;
  }
  if (response.status === 204) return null;
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  return template.content;
}

/** Replace the element with the same id as the fragment's first element (or add it). */
export function replaceById(fragment) {
  const fresh = fragment?.firstElementChild;
  if (!fresh) return null;
  const old = document.getElementById(fresh.id);
  if (old) old.replaceWith(fresh);
  return fresh;
}

/**
 * Call the REST API as the logged-in user. Resolves to the parsed JSON (or null for no
 * content); rejects with an Error whose message is the API's own explanation.
 */
export async function api(method, url, body, headers = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? t("dom.hub_answered", { status: response.status }));
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}
