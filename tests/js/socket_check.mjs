// Checks admin_ui/static/inbox/socket.js against a fake WebSocket, timers and page.
// Run by tests/test_socket_js.py (`node tests/js/socket_check.mjs`); exits non-zero on
// the first failed assertion.
import assert from "node:assert/strict";

class FakeSocket extends EventTarget {
  static OPEN = 1;
  static made = [];
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.made.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) { this.drop(code); }
  // What the hub does:
  opened() { this.readyState = FakeSocket.OPEN; this.dispatchEvent(new Event("open")); }
  frame(data) { const e = new Event("message"); e.data = JSON.stringify(data); this.dispatchEvent(e); }
  drop(code) { this.readyState = 3; const e = new Event("close"); e.code = code; this.dispatchEvent(e); }
}

const timers = [];
let reloads = 0;
globalThis.WebSocket = FakeSocket;
globalThis.setTimeout = (fn, ms) => { timers.push({ fn, ms }); return timers.length; };
globalThis.clearTimeout = () => {};
globalThis.window = new EventTarget();
globalThis.document = new EventTarget();
globalThis.location = { protocol: "https:", host: "hub.test", reload: () => { reloads += 1; } };
Object.defineProperty(globalThis, "navigator", { value: { onLine: true }, configurable: true });
Math.random = () => 1; // no jitter: waits are exact

const { connect, send } = await import("../../admin_ui/static/inbox/socket.js");
const events = [], resyncs = [], states = [], dispatched = [];
document.addEventListener("hub:event", (e) => dispatched.push(e.detail.id));
const socket = connect({
  onEvent: (frame) => events.push(frame.id),
  onResync: (frame) => resyncs.push(frame),
  onState: (state) => states.push(state),
});
const last = () => FakeSocket.made.at(-1);
const fire = () => { const t = timers.shift(); t.fn(); return t.ms; };

// First connection: no `after`; the hello says where we start.
assert.equal(last().url, "wss://hub.test/ws");
last().opened();
assert.deepEqual(states, ["live"]);
last().frame({ type: "hello", data: {}, last_event_id: 41 });
assert.equal(socket.lastEventId, 41);
last().frame({ type: "message.created", data: {}, id: 42 });
last().frame({ type: "typing", data: {} }); // ephemeral: no id
assert.deepEqual(events, [42, undefined]);
assert.deepEqual(dispatched, [42, undefined]);
assert.equal(socket.lastEventId, 42);
assert.equal(socket.send({ type: "ping" }), true);
assert.equal(send({ type: "typing", conversation_id: 1, typing: true }), true);
assert.deepEqual(last().sent.map((m) => m.type), ["ping", "typing"]);

// A cut: reconnect after a backoff that doubles (0.5 s, 1 s, …) up to 10 s.
last().drop(1006);
assert.deepEqual(states, ["live", "reconnecting"]);
assert.equal(socket.send({ type: "ping" }), false);
assert.equal(send({ type: "ping" }), false);
const waits = [];
for (let i = 0; i < 7; i += 1) {
  waits.push(fire());
  assert.equal(last().url, "wss://hub.test/ws?after=42");
  last().drop(1006);
}
assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 10000, 10000]);

// Connected again: the backoff starts over; the replay moves the id on.
fire();
last().opened();
last().frame({ type: "conversation.updated", data: {}, id: 43 });
last().drop(1001);
assert.equal(fire(), 500);
assert.equal(last().url, "wss://hub.test/ws?after=43");

// A resync: reload the state, continue from the id the hub names.
last().opened();
last().frame({ type: "resync", data: {}, last_event_id: 90 });
assert.equal(resyncs.length, 1);
assert.equal(socket.lastEventId, 90);
// Too slow: straight back, asking for what was dropped.
last().drop(1013);
assert.equal(fire(), 0);
assert.equal(last().url, "wss://hub.test/ws?after=90");

// Access ended: the page reloads (and so goes to the login page); no reconnect.
last().opened();
last().drop(4401);
assert.equal(reloads, 1);
assert.equal(timers.length, 0);
assert.equal(states.at(-1), "offline");
console.log("socket.js: ok");
