// The audit log page: its times in the reader's own time zone (the server writes UTC).
import { localizeTimes } from "./inbox/time.js";

localizeTimes();
