// Files in the composer: added by the picker, by dropping them on the composer or by
// pasting; each checked against the workspace's and the channel's limits BEFORE it is
// uploaded (POST /api/v1/attachments), so a file the channel cannot carry is refused
// at once with the reason; removable until the message is sent.

import { csrfToken } from "./dom.js";
import { lang, t, tn } from "./strings.js";

let hooks = { changed: () => {}, showError: () => {} };

/** Bytes for people, as the hub writes them ("20 MB", "1.5 MB", "300 KB"). */
export function humanSize(size) {
  for (const [unit, factor] of [["MB", 1024 * 1024], ["KB", 1024]]) {
    if (size >= factor) {
      const value = size / factor;
      const digits = Number.isInteger(value) ? 0 : 1;
      const shown = new Intl.NumberFormat(lang(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
      return `${shown} ${unit}`;
    }
  }
  return tn("files.bytes", size);
}

function kindOf(contentType) {
  const major = contentType.split("/")[0];
  return ["image", "audio", "video"].includes(major) ? major : "document";
}

/** Why ``file`` may not be sent from this composer in ``mode``, or null when it may. */
export function refusal(form, file, mode) {
  const checks = JSON.parse(form.dataset.checks);
  const dot = file.name.lastIndexOf(".");
  const type = dot > 0 ? checks.types[file.name.slice(dot + 1).toLowerCase()] : undefined;
  if (!type) {
    const allowed = Object.keys(checks.types).map((e) => e.toUpperCase()).sort().join(", ");
    return t("files.type_refused", { file: file.name, allowed });
  }
  if (!file.size) return t("files.empty", { file: file.name });
  if (file.size > checks.maxBytes) {
    return t("files.too_big", { file: file.name, size: humanSize(file.size), max: humanSize(checks.maxBytes) });
  }
  if (mode !== "reply") return null; // an internal comment never reaches the channel
  const media = checks.media;
  if (!Object.keys(media).length) return t("files.none", { channel: checks.channel });
  let kind = kindOf(type);
  if (!(kind in media) && "document" in media) kind = "document";
  if (!(kind in media)) return t("files.kind_refused", { channel: checks.channel, kind: t(`files.kind.${kind}`), file: file.name });
  if (file.size > media[kind]) {
    return t("files.kind_too_big", { file: file.name, size: humanSize(file.size), channel: checks.channel, kind: t(`files.kind.${kind}`), max: humanSize(media[kind]) });
  }
  return null;
}

function chips(form) {
  return [...form.querySelectorAll("[data-file-list] .file-chip")];
}

/** The ids of the uploaded files waiting to be sent. */
export function attachmentIds(form) {
  return chips(form).map((chip) => Number(chip.dataset.attachmentId)).filter(Boolean);
}

/** Whether a file is still uploading (sending must wait for it). */
export function uploading(form) {
  return chips(form).some((chip) => chip.dataset.uploading);
}

/** Empty the list of files (after sending). */
export function clearFiles(form) {
  form.querySelector("[data-file-list]").replaceChildren();
}

function newChip(form, file) {
  const chip = form.querySelector("template[data-file-chip]").content.firstElementChild.cloneNode(true);
  chip.querySelector("[data-file-name]").textContent = file.name;
  chip.querySelector("[data-file-size]").textContent = `${humanSize(file.size)} · uploading…`;
  chip.querySelector("[data-remove-file]").setAttribute("aria-label", `Remove ${file.name}`);
  chip.dataset.uploading = "yes";
  form.querySelector("[data-file-list]").append(chip);
  return chip;
}

async function upload(form, file) {
  const chip = newChip(form, file);
  const data = new FormData();
  data.append("file", file, file.name);
  try {
    const response = await fetch("/api/v1/attachments", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken() },
      body: data,
    });
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw new Error(answer?.error?.message ?? t("files.upload_failed", { status: response.status }));
    if (!chip.isConnected) return; // removed while uploading
    chip.dataset.attachmentId = answer.id;
    delete chip.dataset.uploading;
    chip.querySelector("[data-file-size]").textContent = humanSize(answer.size);
    hooks.changed(form);
  } catch (error) {
    chip.remove();
    hooks.showError(form, `${file.name}: ${error.message}`);
  }
}

/** Check each file, hand those that pass to ``accept``, and say why the others were
    refused. ``files`` need a ``name`` and a ``size``. */
function checkEach(form, files, accept) {
  const mode = form.querySelector("input[name=mode]:checked")?.value ?? "reply";
  const checks = JSON.parse(form.dataset.checks);
  const problems = [];
  let room = checks.maxFiles - chips(form).length;
  for (const file of files) {
    const problem = refusal(form, file, mode);
    if (problem) problems.push(problem);
    else if (room <= 0) problems.push(tn("files.too_many", checks.maxFiles, { file: file.name }));
    else {
      room -= 1;
      accept(file);
    }
  }
  hooks.showError(form, problems.length ? problems.join(" ") : null);
}

/** Check each file, upload those that pass, and say why the others were refused. */
export function addFiles(form, files) {
  checkEach(form, files, (file) => upload(form, file));
}

/** Add files the hub holds already as uploads of the agent's (a snippet's files, see
    POST /api/v1/snippets/{id}/render): checked like any file, sent with the message. */
export function addUploaded(form, attachments) {
  const files = attachments.map((a) => ({ name: a.filename, size: a.size, id: a.id }));
  checkEach(form, files, (file) => {
    const chip = newChip(form, file);
    chip.dataset.attachmentId = file.id;
    delete chip.dataset.uploading;
    chip.querySelector("[data-file-size]").textContent = humanSize(file.size);
  });
  hooks.changed(form);
}

export function setUpAttachments(given) {
  hooks = given;
  document.addEventListener("change", (event) => {
    if (!event.target.matches("#composer [data-file-input]")) return;
    addFiles(event.target.form, [...event.target.files]);
    event.target.value = "";
  });
  document.addEventListener("click", (event) => {
    const remove = event.target.closest("#composer [data-remove-file]");
    if (!remove) return;
    const form = remove.closest("#composer");
    remove.closest(".file-chip").remove();
    hooks.changed(form);
    form.querySelector("textarea[name=text]").focus();
  });
  document.addEventListener("paste", (event) => {
    const form = event.target.closest?.("#composer");
    const files = [...(event.clipboardData?.files ?? [])];
    if (!form || !files.length) return;
    event.preventDefault();
    addFiles(form, files);
  });
  document.addEventListener("dragover", (event) => {
    const form = event.target.closest?.("#composer");
    if (!form || !event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    form.classList.add("dropping");
  });
  document.addEventListener("dragleave", (event) => {
    event.target.closest?.("#composer")?.classList.remove("dropping");
  });
  document.addEventListener("drop", (event) => {
    const form = event.target.closest?.("#composer");
    if (!form || !event.dataTransfer?.files.length) return;
    event.preventDefault();
    form.classList.remove("dropping");
    addFiles(form, [...event.dataTransfer.files]);
  });
}
