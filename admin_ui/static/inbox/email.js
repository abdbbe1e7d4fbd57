// An email's remote images, loaded only when the agent asks (a tracker in the mail
// would learn it was opened): "Show remote images" replaces the message's body by the
// same email in a sandboxed frame (no scripts; its own CSP lets remote images in),
// sized to its content as it loads and as its folded parts open.

import { t } from "./strings.js";

const SANDBOX = "allow-same-origin allow-popups allow-popups-to-escape-sandbox";
// The messages whose remote images the agent asked for, while the page lives: a live
// update re-renders a message as the server has it (images held back) and keepRemoteImages
// shows them again.
const asked = new Set();

function fit(frame) {
  const doc = frame.contentDocument;
  if (!doc?.documentElement) return;
  frame.style.height = `${doc.documentElement.scrollHeight}px`;
}

function showRemoteImages(button) {
  const bubble = button.closest(".bubble");
  const email = bubble?.querySelector("[data-email]");
  if (!email) return;
  asked.add(button.closest("[data-item]")?.id);
  const frame = document.createElement("iframe");
  frame.className = "email-frame";
  frame.title = t("email.frame_title");
  frame.setAttribute("sandbox", SANDBOX);
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.src = button.dataset.remoteImages;
  frame.addEventListener("load", () => {
    fit(frame);
    // The frame runs no script of its own; the page watches it grow (images, details).
    const body = frame.contentDocument?.body;
    if (body) new ResizeObserver(() => fit(frame)).observe(body);
  });
  email.replaceWith(frame);
  button.closest(".remote-images")?.remove();
}

/** Show again the remote images asked for in messages re-rendered under ``root``. */
export function keepRemoteImages(root) {
  for (const button of root.querySelectorAll("[data-remote-images]")) {
    if (asked.has(button.closest("[data-item]")?.id)) showRemoteImages(button);
  }
}

export function setUpEmail() {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remote-images]");
    if (button) showRemoteImages(button);
  });
}
