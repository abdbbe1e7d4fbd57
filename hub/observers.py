"""Run the plugins' observer hooks after a change commits, isolated from the pipe.

Each observer runs in its own background task: a slow one delays no webhook answer and
no other observer, and its exception is logged with the plugin's name and goes no
further. ``drain`` lets shutdown (and tests) wait for the observers still running.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import pluggy

from hub.contract.notices import (
    ConversationUpdated,
    MessageFailed,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
    Notice,
)

log = logging.getLogger(__name__)

HOOK_OF: dict[type[Notice], str] = {
    MessageReceived: "hub_message_received",
    MessageSent: "hub_message_sent",
    MessageFailed: "hub_message_failed",
    MessageStatusChanged: "hub_message_status",
    ConversationUpdated: "hub_conversation_updated",
}


class Observers:
    """Hands notices to the observer hooks of the loaded plugins."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm
        self._running: set[asyncio.Task[None]] = set()

    @property
    def hooks(self) -> pluggy.HookRelay:
        """The plugin manager's hook relay, for the hooks the core calls in a
        transaction (``Work.hooks``)."""
        return self._pm.hook

    def notify(self, notice: Notice) -> None:
        """Schedule every observer of ``notice``'s hook; returns at once."""
        hook_name = HOOK_OF[type(notice)]
        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            task = asyncio.get_running_loop().create_task(self._run(impl, hook_name, notice))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, impl: pluggy.HookImpl, hook_name: str, notice: Notice) -> None:
        try:
            # Called one by one rather than through the hook caller, so one plugin's
            # exception cannot keep the next plugin from hearing of the change.
            result: Any = impl.function(notice=notice) if impl.argnames else impl.function()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("observer %s of plugin %s failed", hook_name, impl.plugin_name)

    async def drain(self, grace: float | None = None) -> None:
        """Wait for the observers still running (cancelling them after ``grace`` seconds)."""
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
