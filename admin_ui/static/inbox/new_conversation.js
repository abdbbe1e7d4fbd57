// A new conversation from the list's "New conversation" button: find a contact
// (GET /api/v1/contacts?q=), pick one of their channels (…/identities), write the first
// message and start it (POST /api/v1/conversations, with an idempotency key), then open
// it. A contact with an open conversation on that channel is taken there instead.

import { api } from "./dom.js";
import { openConversation } from "./thread.js";

let pending = null; // { key, fingerprint } of the start in flight
let searchSeq = 0;

function dialog() {
  return document.getElementById("new-conversation");
}

function say(message) {
  const box = dialog().querySelector(".composer-error");
  box.textContent = message ?? "";
  box.hidden = !message;
}

function options(select, items, label) {
  select.replaceChildren(
    ...items.map((item) => {
      const option = document.createElement("option");
      option.value = item.id;
      option.textContent = label(item);
      return option;
    }),
  );
}

async function search(q) {
  const seq = ++searchSeq;
  const page = await api("GET", `/api/v1/contacts?limit=20${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  if (seq !== searchSeq) return;
  const select = dialog().querySelector("[data-contact-choice]");
  const before = select.value;
  options(select, page.items, (c) => [c.name || "Unknown contact", c.email, c.phone].filter(Boolean).join(" · "));
  // The choice stays when it is still listed; else the first one found is chosen.
  select.value = before;
  if (select.selectedIndex < 0 && page.items.length) select.selectedIndex = 0;
  if (select.value !== before || !before) await chooseContact(select.value);
}

async function chooseContact(contactId) {
  const select = dialog().querySelector("[data-channel-choice]");
  select.replaceChildren();
  select.disabled = true;
  if (!contactId) return;
  const page = await api("GET", `/api/v1/contacts/${contactId}/identities`);
  const seen = new Set();
  const channels = page.items.filter((i) => !seen.has(i.channel_id) && seen.add(i.channel_id));
  options(select, channels.map((i) => ({ id: i.channel_id, name: i.channel_name })), (c) => c.name);
  select.disabled = !channels.length;
  say(channels.length ? null : "This contact has no channel to write to.");
}

async function start(form) {
  const body = {
    contact_id: Number(form.elements.contact_id.value),
    channel_id: Number(form.elements.channel_id.value),
    text: form.elements.text.value,
  };
  if (!body.contact_id || !body.channel_id || !body.text.trim()) {
    say("Choose a contact and a channel, and write a message.");
    return;
  }
  const fingerprint = JSON.stringify(body);
  if (pending?.fingerprint !== fingerprint) pending = { key: crypto.randomUUID(), fingerprint };
  const button = form.querySelector("[data-start]");
  button.disabled = true;
  say(null);
  try {
    let id;
    try {
      id = (await api("POST", "/api/v1/conversations", body, { "Idempotency-Key": pending.key })).id;
    } catch (error) {
      id = error.data?.error?.details?.conversation_id;
      if (error.data?.error?.code !== "conversation_exists" || !id) throw error;
      const { text } = body;
      await api("POST", `/api/v1/conversations/${id}/messages`, { text }, { "Idempotency-Key": pending.key });
    }
    pending = null;
    form.reset();
    dialog().close();
    await openConversation(id);
  } catch (error) {
    say(error.message);
  } finally {
    button.disabled = false;
  }
}

export function setUpNewConversation() {
  const opener = document.querySelector("[data-new-conversation]");
  if (!opener || !dialog()) return;
  opener.hidden = false; // without this script the button could do nothing
  let timer = null;
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-new-conversation]")) {
      say(null);
      dialog().showModal();
      search("").catch((error) => say(error.message));
    } else if (event.target.closest("#new-conversation [data-close-dialog]")) {
      dialog().close();
    }
  });
  dialog().addEventListener("input", (event) => {
    if (!event.target.matches("[data-contact-search]")) return;
    clearTimeout(timer);
    timer = setTimeout(() => search(event.target.value.trim()).catch((e) => say(e.message)), 200);
  });
  dialog().addEventListener("change", (event) => {
    if (event.target.matches("[data-contact-choice]")) chooseContact(event.target.value).catch((e) => say(e.message));
  });
  dialog().addEventListener("submit", (event) => {
    event.preventDefault();
    start(event.target);
  });
}
