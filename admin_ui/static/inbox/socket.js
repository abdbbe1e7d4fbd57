// The inbox's websocket: live events with no gaps across reconnects.
//
//   import { connect, send } from "./socket.js";
//   const socket = connect({ onEvent, onResync, onState });
//   send({ type: "typing", conversation_id: 12, typing: true }); // or socket.send(…)
//
// Every event the hub logs carries an increasing `id`. The client remembers the last id
// it applied and, when the connection drops, reconnects with `/ws?after=<id>`: the hub
// replays what was missed, or answers `resync` when it no longer can (the caller then
// reloads its state). Each event is also dispatched on `document` as a
// `hub:event` CustomEvent (detail: the frame), a resync as `hub:resync`, and every
// change of the connection's state as `hub:socket` (detail: {state}), so the other
// inbox modules only listen. See docs/api/realtime.md for the protocol.

const MIN_DELAY = 500; // ms before the first reconnect…
const MAX_DELAY = 10000; // …doubling up to this
const CLOSE_TOO_SLOW = 1013; // the hub cut us off for falling behind
const CLOSE_ACCESS_ENDED = 4401; // logged out, deactivated, session or token ended

let active = null; // the latest connection, for send()

/** Send a client frame (e.g. typing) on the open socket; false (dropped) while not live. */
export function send(frame) {
  return active !== null && active.send(frame);
}

// States (none until the first connection opens or fails): "live" (connected),
// "reconnecting" (waiting to, or trying), "offline" (the browser has no network, so we
// wait for it to come back instead of retrying; or closed for good).
export function connect({ onEvent = () => {}, onResync = () => {}, onState = () => {}, after = null } = {}) {
  // The id of the last event applied; null until the first hello tells where we start.
  // `after` lets a page that rendered its state at a known id start from there.
  let lastId = after;
  let socket = null;
  let delay = MIN_DELAY;
  let timer = null;
  let stopped = false;
  let state = null;

  function setState(next) {
    if (next === state) return;
    state = next;
    onState(next);
    document.dispatchEvent(new CustomEvent("hub:socket", { detail: { state: next } }));
  }

  function url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = lastId === null ? "" : `?after=${encodeURIComponent(lastId)}`;
    return `${scheme}//${location.host}/ws${query}`;
  }

  function open() {
    timer = null;
    if (stopped) return;
    if (navigator.onLine === false) {
      setState("offline"); // the "online" listener below reconnects
      return;
    }
    socket = new WebSocket(url());
    socket.addEventListener("open", () => {
      delay = MIN_DELAY; // it worked: the next drop retries quickly again
      setState("live");
    });
    socket.addEventListener("message", (message) => receive(message.data));
    socket.addEventListener("close", (closed) => dropped(closed.code));
  }

  function receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // not ours to understand; the hub sends JSON only
    }
    if (frame.type === "hello") {
      if (lastId === null) lastId = frame.last_event_id;
      return;
    }
    if (frame.type === "resync") {
      // The gap cannot be replayed (or, without an id, the hub's processes lost touch):
      // reload the state, and continue from the newest id if the hub named it.
      if (Number.isInteger(frame.last_event_id)) lastId = frame.last_event_id;
      onResync(frame);
      document.dispatchEvent(new CustomEvent("hub:resync", { detail: frame }));
      return;
    }
    if (frame.type === "pong" || frame.type === "error") return;
    // Ids only grow, but with several hub processes two may arrive swapped: keep the
    // highest, so a reconnect never asks for what was already applied.
    if (Number.isInteger(frame.id) && (lastId === null || frame.id > lastId)) lastId = frame.id;
    onEvent(frame);
    document.dispatchEvent(new CustomEvent("hub:event", { detail: frame }));
  }

  function dropped(code) {
    socket = null;
    if (stopped) return;
    if (code === CLOSE_ACCESS_ENDED) {
      // The page itself now redirects to the login page.
      stopped = true;
      setState("offline");
      location.reload();
      return;
    }
    // Too slow (1013) needs nothing special: reconnecting with `after` replays what was
    // dropped, or the hub answers resync. Every other close: reconnect with backoff.
    retry(code === CLOSE_TOO_SLOW ? 0 : delay);
  }

  function retry(wait) {
    setState(navigator.onLine === false ? "offline" : "reconnecting");
    if (timer !== null || stopped) return;
    // Jitter: after a hub restart, not every tab reconnects at the same instant.
    timer = setTimeout(open, wait * (0.5 + Math.random() / 2));
    delay = Math.min(delay * 2, MAX_DELAY);
  }

  function online() {
    if (stopped || socket !== null) return;
    clearTimeout(timer);
    timer = null;
    delay = MIN_DELAY;
    open();
  }

  window.addEventListener("online", online);
  open();

  active = {
    // The id a reconnect would ask to continue after.
    get lastEventId() {
      return lastId;
    },
    get state() {
      return state;
    },
    // Send a client message (e.g. {type: "typing", …}); false if not connected.
    send(message) {
      if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    // Close for good (the page is going away, or the user logs out).
    close() {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener("online", online);
      if (socket !== null) socket.close(1000);
      setState("offline");
    },
  };
  return active;
}
