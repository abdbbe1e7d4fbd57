// Typing: while the agent writes a reply, the hub hears "typing" over the websocket
// (and shows the contact an indicator where the channel has one); other agents in the
// same conversation see "Ana is typing…" under the timeline, so two agents do not
// answer twice. Comments are internal: writing one tells no one.

import { send } from "./socket.js";
import { t, tn } from "./strings.js";

const REPEAT_MS = 2500; // the hub repeats "typing" to others at most every 3 s
const IDLE_MS = 5000; // no keystroke for this long: stopped typing
const EXPIRE_MS = 8000; // another agent's indicator lapses unless repeated

let typingIn = null;
let lastSent = 0;
let idleTimer = null;
const typers = new Map(); // conversation id → Map(user id → { name, timer })

/** A keystroke in the reply: say so (not more often than the hub passes it on). */
export function noteTyping(form) {
  const id = Number(form.dataset.conversationId);
  const now = Date.now();
  if (typingIn !== id || now - lastSent > REPEAT_MS) {
    if (typingIn !== null && typingIn !== id) stoppedTyping();
    send({ type: "typing", conversation_id: id, typing: true });
    typingIn = id;
    lastSent = now;
  }
  clearTimeout(idleTimer);
  idleTimer = setTimeout(stoppedTyping, IDLE_MS);
}

/** The agent sent, paused or left: stop the indicator. */
export function stoppedTyping() {
  clearTimeout(idleTimer);
  if (typingIn === null) return;
  send({ type: "typing", conversation_id: typingIn, typing: false });
  typingIn = null;
}

function sentence(names) {
  if (!names.length) return "";
  if (names.length === 1) return t("typing.one", { name: names[0] });
  if (names.length === 2) return t("typing.two", { first: names[0], second: names[1] });
  return tn("typing.many", names.length);
}

/** Show who else is typing in the open conversation. */
export function showTypers() {
  const form = document.getElementById("composer");
  const line = document.getElementById("typing-indicator");
  if (!form || !line) return;
  const here = typers.get(Number(form.dataset.conversationId)) ?? new Map();
  line.textContent = sentence([...here.values()].map((t) => t.name));
}

function onTyping(data) {
  const me = Number(document.getElementById("inbox")?.dataset.userId);
  if (!data || data.user_id === me) return;
  const id = Number(data.conversation_id);
  if (!typers.has(id)) typers.set(id, new Map());
  const here = typers.get(id);
  clearTimeout(here.get(data.user_id)?.timer);
  if (data.typing) {
    const timer = setTimeout(() => {
      here.delete(data.user_id);
      showTypers();
    }, EXPIRE_MS);
    here.set(data.user_id, { name: data.name || t("typing.someone"), timer });
  } else {
    here.delete(data.user_id);
  }
  showTypers();
}

export function setUpTyping() {
  document.addEventListener("hub:event", (event) => {
    const { type, data } = event.detail ?? {};
    if (type === "typing") onTyping(data);
    // A message from someone typing ends their indicator at once.
    if (type === "message.created" && data?.sender_user_id) {
      onTyping({ conversation_id: data.conversation_id, user_id: data.sender_user_id, typing: false });
    }
  });
  window.addEventListener("pagehide", stoppedTyping);
}
