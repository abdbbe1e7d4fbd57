// The agents' inbox: wires the modules together. Every part of the page also works as
// plain links without this script; with it, the page updates live and opens
// conversations without reloading.

import { setUpActions } from "./actions.js";
import { setUpBulk } from "./bulk.js";
import { setUpCommandBar } from "./command_bar.js";
import { setUpComposer } from "./composer.js";
import { setUpContact } from "./contact.js";
import { setUpCrm } from "./crm.js";
import { setUpCustomInboxes } from "./custom_inboxes.js";
import { setUpEmail } from "./email.js";
import { setUpList } from "./list.js";
import { setUpMacros } from "./macros.js";
import { setUpMedia } from "./media.js";
import { resync, setUpLive } from "./live.js";
import { setUpNotifications } from "./notifications.js";
import { setUpNewConversation } from "./new_conversation.js";
import { setUpSearch } from "./search.js";
import { setUpShortcuts } from "./shortcuts.js";
import { connect } from "./socket.js";
import { setUpThread } from "./thread.js";
import { setUpThreadSearch } from "./thread_search.js";
import { localizeTimes } from "./time.js";
import { setUpTopbar } from "./topbar.js";
import { t } from "./strings.js";

const SOCKET_STATES = {
  reconnecting: () => t("socket.reconnecting"),
  offline: () => t("socket.offline"),
};

localizeTimes();
const listObserver = setUpList();
setUpSearch(listObserver);
setUpCustomInboxes();
setUpTopbar();
setUpThread();
setUpComposer();
setUpNewConversation();
setUpActions();
setUpMacros();
setUpBulk();
setUpContact();
setUpCrm();
setUpNotifications();
setUpMedia();
setUpEmail();
setUpThreadSearch();
setUpLive();
setUpShortcuts();
setUpCommandBar();
connect({
  // The page was rendered at this point of the event log: start from there.
  after: document.getElementById("inbox").dataset.lastEventId || null,
  onResync: () => resync(listObserver),
  onState: (state) => {
    document.body.dataset.socket = state;
    // Say so while the page is not live; its role=status region announces it.
    document.querySelector("[data-socket-text]").textContent = SOCKET_STATES[state]?.() ?? "";
  },
});
