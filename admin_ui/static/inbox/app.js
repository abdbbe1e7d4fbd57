// The agents' inbox: wires the modules together. Every part of the page also works as
// plain links without this script; with it, the page updates live and opens
// conversations without reloading.

import { setUpActions } from "./actions.js";
import { setUpCommandBar } from "./command_bar.js";
import { setUpComposer } from "./composer.js";
import { setUpContact } from "./contact.js";
import { setUpCustomInboxes } from "./custom_inboxes.js";
import { setUpList } from "./list.js";
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

localizeTimes();
const listObserver = setUpList();
setUpSearch(listObserver);
setUpCustomInboxes();
setUpTopbar();
setUpThread();
setUpComposer();
setUpNewConversation();
setUpActions();
setUpContact();
setUpNotifications();
setUpMedia();
setUpThreadSearch();
setUpLive();
setUpShortcuts();
setUpCommandBar();
connect({
  onResync: () => resync(listObserver),
  onState: (state) => { document.body.dataset.socket = state; },
});
