// The conversation header's actions: each calls the REST API, then the pane is brought
// up to date (the same domain functions, and permission checks, as any API client).

import { api } from "./dom.js";
import { openPane, refreshHead, syncTimeline } from "./thread.js";

const ACTIONS = {
  close: (id) => api("POST", `/api/v1/conversations/${id}/close`, {}),
  reopen: (id) => api("POST", `/api/v1/conversations/${id}/reopen`),
};

export function setUpActions() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("#pane-head [data-action]");
    const action = button && ACTIONS[button.dataset.action];
    if (!action) return;
    const pane = openPane();
    button.disabled = true;
    try {
      await action(pane.dataset.conversationId);
      await Promise.all([refreshHead(), syncTimeline()]);
    } catch (error) {
      button.disabled = false;
      alert(error.message);
    }
  });
}
