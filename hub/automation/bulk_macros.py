"""Running a macro on many conversations: the ``macro`` entry of the bulk actions.

The bulk runner (``hub.inbox.bulk``) sits below automation, so the entry is made here
and handed to it (``bulk_actions``, which the app builds once with its channels). A
job stores a copy of the macro's actions when it starts, so what runs is what the agent
chose even if the macro is edited or deleted meanwhile.

A batch holds many conversations in one transaction, and a macro's third action can
fail after its first two changed the conversation: each conversation runs in a
savepoint, and the events and observer notices its actions queued are dropped with it,
so nobody's screen shows a change that was rolled back. All or nothing per
conversation, as when running the macro on one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from hub.auth.visibility import Viewer
from hub.automation.actions import Action
from hub.automation.macros import actions_of, get_macro, run_actions
from hub.errors import HubError, Invalid, NotFound
from hub.events.work import Work
from hub.inbox.bulk_actions import ACTIONS, BulkAction, Outcome
from hub.inbox.channel_plugins import ChannelPlugins
from hub.store.types import DbId


class MacroParams(BaseModel):
    """``{"macro_id": …}``: a macro the actor sees. The job stores its name and a copy of
    its actions beside it (given by the hub, not the caller: ``prepare`` replaces them)."""

    model_config = ConfigDict(extra="forbid")

    macro_id: DbId
    name: str | None = None
    actions: list[Action] | None = Field(None, description="filled in by the hub")


async def _prepare(work: Work, viewer: Viewer, params: MacroParams) -> MacroParams:
    try:
        macro = await get_macro(work, viewer, params.macro_id)
    except NotFound:
        raise Invalid("macro_id", f"no macro with id {params.macro_id}") from None
    return MacroParams(macro_id=macro.id, name=macro.name, actions=actions_of(macro))


Step = Callable[[Work, Viewer, int, MacroParams], Awaitable[Outcome]]


def _step(channels: ChannelPlugins | None) -> Step:
    async def step(
        work: Work, viewer: Viewer, conversation_id: int, params: MacroParams
    ) -> Outcome:
        events, notices = len(work.events), len(work.notices)
        try:
            async with work.db.begin_nested():
                outcomes = await run_actions(
                    work, viewer, conversation_id, params.actions or [], channels=channels
                )
        except HubError:
            # The savepoint is rolled back: what the earlier actions announced goes too.
            del work.events[events:]
            del work.notices[notices:]
            return "refused"
        return "done" if any(outcome.changed for outcome in outcomes) else "skipped"

    return step


def bulk_actions(channels: ChannelPlugins | None) -> Mapping[str, BulkAction]:
    """The inbox's bulk actions and ``macro``, whose snippet replies are checked against
    ``channels`` as the composer's are."""
    macro = BulkAction("macro", "done", MacroParams, prepare=_prepare, step=_step(channels))
    return {**ACTIONS, macro.name: macro}
