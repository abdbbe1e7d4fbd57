// The template picker of a channel whose customer-service window is closed (WhatsApp's
// 24 hours): the server renders the approved templates with their parameter fields
// (GET …/templates); this shows the chosen one's fields and reads what to send.

import { fetchFragment } from "./dom.js";
import { t } from "./strings.js";

let hooks = { changed: () => {} };

/** Fetch the channel's templates into the composer. */
export async function loadTemplates(form) {
  const holder = form.querySelector("[data-templates-body]");
  if (holder) await loadTemplatesInto(holder, form.dataset.templatesUrl);
}

/** Fetch a template picker fragment from ``url`` into ``holder`` (the composer's, or
 * the "New conversation" dialog's). */
export async function loadTemplatesInto(holder, url) {
  try {
    const fragment = await fetchFragment(url);
    if (fragment && holder.isConnected) holder.replaceChildren(fragment);
  } catch (error) {
    holder.textContent = t("templates.failed", { error: error.message });
  }
}

function showFields(select) {
  const picker = select.closest(".template-choices");
  for (const fields of picker.querySelectorAll("[data-template-index]")) {
    const chosen = fields.dataset.templateIndex === select.value;
    fields.hidden = !chosen;
    for (const input of fields.querySelectorAll("input")) input.disabled = !chosen;
  }
}

/** The chosen template with its parameters, or null (saying why) when incomplete. */
export function templateChoice(form) {
  const select = form.querySelector("[data-template-choice]");
  const option = select?.selectedOptions[0];
  const error = form.querySelector(".composer-error");
  const say = (message) => {
    error.textContent = message;
    error.hidden = false;
    return null;
  };
  if (!option || !option.value) return say(t("templates.choose"));
  const fields = form.querySelector(`[data-template-index="${option.value}"]`);
  const inputs = [...fields.querySelectorAll("[data-template-param]")];
  const empty = inputs.find((input) => !input.value.trim());
  if (empty) {
    empty.focus();
    return say(t("templates.fill_in", { field: empty.labels[0]?.textContent ?? t("templates.every_parameter") }));
  }
  return { name: option.dataset.name, language: option.dataset.language, parameters: inputs.map((i) => i.value) };
}

export function setUpTemplates(given) {
  hooks = given;
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-template-choice]")) {
      showFields(event.target);
      const composer = event.target.closest("#composer");
      if (composer) hooks.changed(composer);
    }
  });
  document.addEventListener("reset-template", (event) => {
    if (!event.target.matches?.("[data-template-choice]")) return;
    event.target.value = "";
    showFields(event.target);
  }, true);
}
