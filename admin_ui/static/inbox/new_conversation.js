// A new conversation from the list's "New conversation" button: find a contact
// (GET /api/v1/contacts?q=), pick one of their channels (…/identities), write the first
// message and start it (POST /api/v1/conversations, with an idempotency key), then open
// it. A contact with an open conversation on that channel is taken there instead.
// "New contact" creates one (POST /api/v1/contacts); a channel that can write first
// (listed by the server in [data-dialog-channels]) reaches a contact at an address
// the agent types, recorded before the start (POST …/identities, safe to repeat).
// Where a channel has a customer-service window and templates (WhatsApp), someone at a
// new address — or a contact whose window the server finds closed — is written to with
// a template: the composer's picker (templates.js) replaces the message box.

import { api } from "./dom.js";
import { loadTemplatesInto, templateChoice } from "./templates.js";
import { openConversation } from "./thread.js";
import { t } from "./strings.js";

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
  options(select, page.items, (c) => [c.name || t("new.unknown_contact"), c.email, c.phone].filter(Boolean).join(" · "));
  // The choice stays when it is still listed; else the first one found is chosen.
  select.value = before;
  if (select.selectedIndex < 0 && page.items.length) select.selectedIndex = 0;
  if (select.value !== before || !before) await chooseContact(select.value);
}

async function chooseContact(contactId) {
  const select = dialog().querySelector("[data-channel-choice]");
  select.replaceChildren();
  select.disabled = true;
  showAddress();
  if (!contactId) return;
  const page = await api("GET", `/api/v1/contacts/${contactId}/identities`);
  const seen = new Set();
  const channels = page.items.filter((i) => !seen.has(i.channel_id) && seen.add(i.channel_id));
  options(select, channels.map((i) => ({ id: i.channel_id, name: i.channel_name })), (c) => c.name);
  // Channels that can write first, where the contact has no identity yet.
  for (const option of dialogChannels().querySelectorAll("option[data-writes-first]")) {
    if (!seen.has(Number(option.value))) {
      const copy = option.cloneNode(true);
      copy.setAttribute("data-new-address", "");
      select.append(copy);
    }
  }
  select.disabled = !select.options.length;
  showAddress();
  say(select.options.length ? null : t("new.no_channel"));
}

function dialogChannels() {
  return dialog().querySelector("[data-dialog-channels]").content;
}

/** The chosen channel decides: an address field for a new address, and the template
 * picker instead of free text where writing first there takes a template. */
function showAddress() {
  const form = dialog().querySelector("form");
  const chosen = form.elements.channel_id.selectedOptions[0];
  const isNew = Boolean(chosen?.hasAttribute("data-new-address"));
  const field = form.querySelector("[data-address-field]");
  field.hidden = !isNew;
  form.elements.address.disabled = !isNew;
  form.elements.address.required = isNew;
  const url = isNew ? chosen.dataset.templatesUrl : null;
  if (url) {
    templateMode(url, t("new.template_only", { channel: chosen.dataset.name ?? t("new.this_channel") }));
  } else {
    textMode();
  }
}

function templateMode(url, reason) {
  const box = dialog().querySelector("[data-dialog-templates]");
  const form = dialog().querySelector("form");
  if (!box.hidden && box.dataset.url === url) return;
  box.hidden = false;
  box.dataset.url = url;
  box.querySelector("[data-template-reason]").textContent = reason;
  dialog().querySelector("[data-text-field]").hidden = true;
  form.elements.text.disabled = true;
  const holder = box.querySelector("[data-templates-body]");
  holder.textContent = t("templates.loading");
  return loadTemplatesInto(holder, url);
}

function textMode() {
  const box = dialog().querySelector("[data-dialog-templates]");
  box.hidden = true;
  delete box.dataset.url;
  box.querySelector("[data-templates-body]").replaceChildren();
  dialog().querySelector("[data-text-field]").hidden = false;
  dialog().querySelector("form").elements.text.disabled = false;
}

function usingTemplate() {
  return !dialog().querySelector("[data-dialog-templates]").hidden;
}

async function createContact(form) {
  const body = {};
  for (const [key, name] of [["name", "new_name"], ["phone", "new_phone"], ["email", "new_email"]]) {
    const value = form.elements[name].value.trim();
    if (value) body[key] = value;
  }
  if (!body.name && !body.phone && !body.email) {
    say(t("new.contact_needs"));
    form.elements.new_name.focus();
    return;
  }
  say(null);
  const contact = await api("POST", "/api/v1/contacts", body);
  const select = form.elements.contact_id;
  const option = document.createElement("option");
  option.value = contact.id;
  option.textContent = [contact.name, contact.email, contact.phone].filter(Boolean).join(" · ");
  select.prepend(option);
  select.value = String(contact.id);
  for (const name of ["new_name", "new_phone", "new_email"]) form.elements[name].value = "";
  toggleNewContact(false);
  await chooseContact(select.value);
  // A phone is the likely address on a phone channel: offer it, the agent may change it.
  if (contact.phone && !form.elements.address.value) form.elements.address.value = contact.phone;
  form.elements.channel_id.focus();
}

function toggleNewContact(open) {
  const button = dialog().querySelector("[data-new-contact]");
  const fields = dialog().querySelector("[data-new-contact-fields]");
  fields.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (open) fields.querySelector("input").focus();
}

async function start(form) {
  const body = {
    contact_id: Number(form.elements.contact_id.value),
    channel_id: Number(form.elements.channel_id.value),
  };
  if (!body.contact_id || !body.channel_id) {
    say(t("new.choose"));
    return;
  }
  if (usingTemplate()) {
    const template = templateChoice(form);
    if (!template) return;
    body.template = template;
  } else {
    body.text = form.elements.text.value;
    if (!body.text.trim()) {
      say(t("new.write"));
      return;
    }
  }
  const chosen = form.elements.channel_id.selectedOptions[0];
  const address = chosen?.hasAttribute("data-new-address") ? form.elements.address.value.trim() : null;
  if (address === "") {
    say(t("new.address"));
    form.elements.address.focus();
    return;
  }
  const fingerprint = JSON.stringify({ ...body, address });
  if (pending?.fingerprint !== fingerprint) pending = { key: crypto.randomUUID(), fingerprint };
  const button = form.querySelector("[data-start]");
  button.disabled = true;
  say(null);
  try {
    if (address !== null) {
      // Repeating this is harmless: the contact's own identity again answers 200.
      await api("POST", `/api/v1/contacts/${body.contact_id}/identities`, { channel_id: body.channel_id, address });
    }
    let id;
    try {
      id = (await api("POST", "/api/v1/conversations", body, { "Idempotency-Key": pending.key })).id;
    } catch (error) {
      const code = error.data?.error?.code;
      const picker = dialogChannels().querySelector(`option[value="${body.channel_id}"][data-templates-url]`);
      if (code === "window_closed" && picker && !usingTemplate()) {
        // The contact has not written within the window: only a template may go now.
        await templateMode(picker.dataset.templatesUrl, error.message);
        return;
      }
      id = error.data?.error?.details?.conversation_id;
      if (code !== "conversation_exists" || !id) throw error;
      const { text, template } = body;
      await api("POST", `/api/v1/conversations/${id}/messages`, template ? { template } : { text }, {
        "Idempotency-Key": pending.key,
      });
    }
    pending = null;
    form.reset();
    toggleNewContact(false);
    showAddress();
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
    } else if (event.target.closest("#new-conversation [data-new-contact]")) {
      toggleNewContact(dialog().querySelector("[data-new-contact-fields]").hidden);
    } else if (event.target.closest("#new-conversation [data-create-contact]")) {
      createContact(dialog().querySelector("form")).catch((e) => say(e.message));
    }
  });
  dialog().addEventListener("input", (event) => {
    if (!event.target.matches("[data-contact-search]")) return;
    clearTimeout(timer);
    timer = setTimeout(() => search(event.target.value.trim()).catch((e) => say(e.message)), 200);
  });
  dialog().addEventListener("change", (event) => {
    if (event.target.matches("[data-contact-choice]")) chooseContact(event.target.value).catch((e) => say(e.message));
    else if (event.target.matches("[data-channel-choice]")) showAddress();
  });
  dialog().addEventListener("submit", (event) => {
    event.preventDefault();
    start(event.target);
  });
}
