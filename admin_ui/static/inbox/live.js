// Live updates: each realtime event fetches the fragments it affects. Several events in
// a burst are folded into one fetch per fragment.

import { openPane, refreshHead, syncTimeline } from "./thread.js";
import { refreshRow, refreshSidebar, reloadList } from "./list.js";
import { refreshContact } from "./contact.js";
import { refreshBell } from "./notifications.js";

const due = { sidebar: false, head: false, timeline: false, contact: false, rows: new Set() };
let scheduled = false;
const BURST = 10;

function schedule() {
  if (scheduled) return;
  scheduled = true;
  // A short pause gathers the events of one change (message, counts, conversation),
  // which arrive within a millisecond or two of each other.
  setTimeout(flush, 10);
}

async function flush() {
  scheduled = false;
  const { sidebar, head, timeline, contact } = due;
  const rows = [...due.rows];
  due.sidebar = due.head = due.timeline = due.contact = false;
  due.rows.clear();
  // What changed first (the rows, the open conversation), the counts and the contact
  // after: the hub serves one request at a time per core, so fetching the sidebar
  // alongside would delay the new message's row by the sidebar's own time.
  // A burst touching many rows (a bulk job's batch) reloads the list once instead.
  const first = rows.length > BURST ? [reloadList()] : rows.map((id) => refreshRow(id));
  if (head) first.push(refreshHead());
  if (timeline) first.push(syncTimeline());
  await Promise.allSettled(first);
  const then = [];
  if (sidebar) then.push(refreshSidebar());
  if (contact) then.push(refreshContact());
  await Promise.allSettled(then);
}

function apply(event) {
  const { type, data } = event;
  const conversationId = data?.conversation_id;
  const open = openPane()?.dataset.conversationId;
  if (type === "counts.changed") due.sidebar = true;
  if (type === "label.updated") {
    // A label renamed, recoloured or deleted: the rows and header that show it.
    for (const chip of document.querySelectorAll(`#rows .label-chip[data-label-id="${data?.label_id}"]`)) {
      due.rows.add(chip.closest(".row")?.dataset.conversationId);
    }
    if (document.querySelector(`#pane-head .label-chip[data-label-id="${data?.label_id}"]`)) due.head = true;
    due.rows.delete(undefined);
  }
  if (type === "contact.updated" && conversationId) {
    due.rows.add(conversationId);  // the row shows the contact's name
    if (String(conversationId) === open) due.contact = due.head = true;
  }
  if (conversationId && ["message.created", "message.updated", "conversation.updated", "comment.created", "conversation.deleted"].includes(type)) {
    due.rows.add(conversationId);
    if (String(conversationId) === open) {
      due.timeline = true;
      if (type === "conversation.updated") due.head = true;
      // A CSAT survey's progress shows in the contact panel too.
      if (type === "conversation.updated" && String(data?.event).startsWith("csat_")) due.contact = true;
    }
  }
  schedule();
}

/** Everything shown may be stale (a gap the hub could not replay): fetch it all again. */
export async function resync(listObserver) {
  await Promise.allSettled([
    refreshSidebar(), reloadList(listObserver), refreshHead(), syncTimeline(), refreshContact(), refreshBell(),
  ]);
}

export function setUpLive() {
  document.addEventListener("hub:event", (event) => apply(event.detail));
}
