"""Macros: a named list of actions an agent runs on a conversation in one go.

A macro is personal (its owner's alone: nobody else sees it, not even an admin) or
shared (``owner_id`` NULL: everyone sees and runs it, owners and managers write it).
Running one carries out its actions in order, as the runner, in the caller's unit of
work: all or nothing. When an action fails the error says which and why, the caller's
transaction is not committed, and so nothing the earlier actions did is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, or_

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.automation.actions import Action, Outcome, check_references, run_action
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.channel_plugins import ChannelPlugins
from hub.store.models import Macro
from hub.store.paging import like_pattern, name_key, name_page

NAME_MAX = 100
ACTIONS_MAX = 20
ACTIONS = TypeAdapter(list[Action])


@dataclass(frozen=True)
class MacroChanges:
    """The fields of a macro an update changes (None: leave it)."""

    name: str | None = None
    actions: Sequence[Action] | None = None
    shared: bool | None = None


@dataclass(frozen=True)
class MacroRun:
    """What running a macro did: one outcome per action, in order."""

    macro: Macro
    conversation_id: int
    outcomes: list[Outcome]


def actions_of(macro: Macro) -> list[Action]:
    """A stored macro's actions, typed. A list the vocabulary no longer reads (an
    action type since removed) is a 409 naming the macro, not a crash."""
    try:
        return ACTIONS.validate_python(macro.actions)
    except ValidationError as error:
        raise HubError(
            409, "macro_outdated", f"macro {macro.name!r} has actions this hub no longer knows"
        ) from error


def _dump(actions: Sequence[Action]) -> list[dict[str, object]]:
    return [action.model_dump(mode="json", exclude_none=True) for action in actions]


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    """Shared macros and the viewer's own."""
    return or_(Macro.owner_id.is_(None), Macro.owner_id == viewer.id)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("name", "give the macro a name")
    if len(name) > NAME_MAX:
        raise Invalid("name", f"at most {NAME_MAX} characters")
    return name


async def _check_actions(work: Work, actions: Sequence[Action]) -> None:
    """422 unless there are 1 to ``ACTIONS_MAX`` actions whose references exist."""
    if not actions:
        raise Invalid("actions", "give at least one action")
    if len(actions) > ACTIONS_MAX:
        raise Invalid("actions", f"at most {ACTIONS_MAX} actions")
    for index, action in enumerate(actions):
        await check_references(work, action, f"actions[{index}]")


def _check_may_write(viewer: Viewer, macro: Macro) -> None:
    """Owners write their personal macros; owners and managers write shared ones."""
    if macro.owner_id is None and not viewer.is_admin:
        raise Forbidden("only owners and managers change shared macros")


async def list_macros(
    work: Work, viewer: Viewer, *, q: str | None = None, cursor: str | None = None, limit: int = 100
) -> tuple[list[Macro], str | None]:
    """One page of the macros the viewer sees (shared and their own), by name; ``q``
    matches part of the name."""
    conditions = [_visible(viewer)]
    if q and q.strip():
        conditions.append(name_key(Macro.name).like(like_pattern(q.strip()), escape="\\"))
    return await name_page(
        work.db, Macro, name_key(Macro.name), Macro.id, conditions, cursor, limit
    )


async def get_macro(work: Work, viewer: Viewer, macro_id: int) -> Macro:
    """A macro the viewer sees; 404 otherwise (another's personal macro is not found)."""
    macro = await work.db.get(Macro, macro_id)
    if macro is None or macro.owner_id not in (None, viewer.id):
        raise NotFound("macro")
    return macro


async def create_macro(
    work: Work, viewer: Viewer, *, name: str, actions: Sequence[Action], shared: bool
) -> Macro:
    """A new macro: personal for anyone, shared for owners and managers (403 otherwise)."""
    if shared and not viewer.is_admin:
        raise Forbidden("only owners and managers create shared macros")
    name = _check_name(name)
    await _check_actions(work, actions)
    macro = Macro(name=name, owner_id=None if shared else viewer.id, actions=_dump(actions))
    work.db.add(macro)
    await work.db.flush()
    await _record(work, viewer, macro, "created", {})
    return macro


async def update_macro(work: Work, viewer: Viewer, macro_id: int, changes: MacroChanges) -> Macro:
    """Rename a macro, replace its actions, or share / unshare it. Sharing (and
    changing a shared one) is for owners and managers; unsharing makes it theirs."""
    macro = await get_macro(work, viewer, macro_id)
    _check_may_write(viewer, macro)
    before = audit.row_facts(macro)
    if changes.name is not None:
        macro.name = _check_name(changes.name)
    if changes.actions is not None:
        await _check_actions(work, changes.actions)
        macro.actions = _dump(changes.actions)
    if changes.shared is not None:
        if changes.shared and not viewer.is_admin:
            raise Forbidden("only owners and managers share macros")
        macro.owner_id = None if changes.shared else viewer.id
    await work.db.flush()
    await _record(work, viewer, macro, "updated", before)
    return macro


async def delete_macro(work: Work, viewer: Viewer, macro_id: int) -> None:
    """Delete a macro the viewer may write (see ``update_macro``)."""
    macro = await get_macro(work, viewer, macro_id)
    _check_may_write(viewer, macro)
    await audit.record_diff(
        work.db, viewer, ("macro", macro.id, macro.name), "deleted", audit.row_facts(macro), {}
    )
    await work.db.delete(macro)
    await work.db.flush()


async def _record(
    work: Work, viewer: Viewer, macro: Macro, verb: str, before: dict[str, Any]
) -> None:
    after = audit.row_facts(macro)
    await audit.record_diff(work.db, viewer, ("macro", macro.id, macro.name), verb, before, after)


async def run_actions(
    work: Work,
    viewer: Viewer,
    conversation_id: int,
    actions: Sequence[Action],
    *,
    channels: ChannelPlugins | None = None,
) -> list[Outcome]:
    """Carry out ``actions`` in order on one conversation as ``viewer``.

    The seam for running many: a bulk run calls this once per conversation, each in a
    unit of work (or a savepoint) of its own. An action that fails raises its own error
    (same status and code) with a message and details saying which action it was; the
    caller must then not commit, so the actions before it are undone too.
    """
    # A conversation the viewer cannot see is a plain 404, not a failed first action.
    await conversations.get_visible(work, viewer, conversation_id)
    outcomes = []
    for index, action in enumerate(actions):
        where = f"action {index + 1} ({action.type})"
        try:
            await check_references(work, action, f"actions[{index}]")
            outcomes.append(
                await run_action(work, viewer, conversation_id, action, channels=channels)
            )
        except HubError as error:
            detail = {
                "field": f"actions[{index}]",
                "message": error.message,
                "action_index": index,
                "action_type": action.type,
                "code": error.code,
            }
            raise HubError(
                error.status, error.code, f"{where} failed: {error.message}", [detail]
            ) from error
    return outcomes


async def run_macro(
    work: Work,
    viewer: Viewer,
    macro_id: int,
    conversation_id: int,
    *,
    channels: ChannelPlugins | None = None,
) -> MacroRun:
    """Run a macro the viewer sees on a conversation they see (see ``run_actions``)."""
    macro = await get_macro(work, viewer, macro_id)
    actions = actions_of(macro)
    outcomes = await run_actions(work, viewer, conversation_id, actions, channels=channels)
    return MacroRun(macro, conversation_id, outcomes)
