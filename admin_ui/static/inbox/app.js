// The agents' inbox: wires the modules together. Every part of the page also works as
// plain links without this script; with it, the page updates live and opens
// conversations without reloading.

import { setUpActions } from "./actions.js";
import { setUpComposer } from "./composer.js";
import { setUpContact } from "./contact.js";
import { setUpList } from "./list.js";
import { resync, setUpLive } from "./live.js";
import { setUpNotifications } from "./notifications.js";
import { connect } from "./socket.js";
import { setUpThread } from "./thread.js";
import { localizeTimes } from "./time.js";

localizeTimes();
const listObserver = setUpList();
setUpThread();
setUpComposer();
setUpActions();
setUpContact();
setUpNotifications();
setUpLive();
connect({
  onResync: () => resync(listObserver),
  onState: (state) => { document.body.dataset.socket = state; },
});
