// The realtime connection: events from /ws, dispatched as "hub:event" on document.
// Reconnects with backoff; after a reconnect the caller's onResync refetches what it
// shows. (The replay of missed events by id replaces that refetch: see the replay work.)

let current = null; // the open socket, for send()

/** Send a client frame (e.g. typing) on the open socket; dropped while reconnecting. */
export function send(frame) {
  if (current?.readyState === WebSocket.OPEN) current.send(JSON.stringify(frame));
}

export function connect({ onResync = () => {}, onState = () => {} } = {}) {
  let delay = 500;
  let everOpen = false;

  function open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws`);
    current = socket;
    socket.addEventListener("open", () => {
      delay = 500;
      onState("live");
      if (everOpen) onResync();
      everOpen = true;
    });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "resync") onResync();
      document.dispatchEvent(new CustomEvent("hub:event", { detail: event }));
    });
    socket.addEventListener("close", (close) => {
      if (close.code === 4401) {
        location.reload(); // access ended: the page asks to log in again
        return;
      }
      onState("reconnecting");
      setTimeout(open, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 10_000);
    });
  }
  open();
}
