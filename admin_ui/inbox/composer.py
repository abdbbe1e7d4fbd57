"""The composer's fragments: the composer itself (after the channel switcher changed the
channel, or the draft changed on another device) and the template picker of a channel
whose customer-service window is closed."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.i18n import gettext as _
from admin_ui.inbox.composer_facts import ComposerFacts, composer_facts
from admin_ui.inbox.conversation import ITEM, Pane, load_pane
from admin_ui.rendering import render_fragment
from hub import appkeys
from hub.api.context import path_id, work
from hub.channels.agent_signals import list_templates
from hub.contract.models import MessageTemplate
from hub.errors import HubError

routes = web.RouteTableDef()


async def _load(request: web.Request) -> tuple[Pane, ComposerFacts]:
    viewer = viewer_of(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    channels = request.config_dict[appkeys.CHANNELS]
    async with work(request) as w:
        pane = await load_pane(w, viewer, conversation_id)
        facts = await composer_facts(
            w, viewer, pane.conversation, pane.contact, pane.channel, channels
        )
    return pane, facts


@routes.get(f"{ITEM}/composer", name="inbox.composer")
async def composer(request: web.Request) -> web.StreamResponse:
    """The composer as the user's draft has it (its channel, mode, text and files)."""
    pane, facts = await _load(request)
    return await render_fragment(request, "inbox/_composer.html", {"pane": pane, "composer": facts})


@routes.get(f"{ITEM}/templates", name="inbox.templates")
async def templates(request: web.Request) -> web.StreamResponse:
    """The approved templates of the composer's channel, each with its parameter fields;
    the provider's refusal or absence is said in the fragment, not as an error page."""
    pane, facts = await _load(request)
    found: list[MessageTemplate] = []
    problem = None
    if not facts.capabilities.templates:
        problem = f"{facts.channel.name} has no message templates."
    else:
        try:
            # Asked with no database session open: the provider may be slow.
            found = await list_templates(
                request.config_dict[appkeys.SESSIONS],
                request.config_dict[appkeys.CHANNELS],
                facts.channel.id,
            )
        except HubError as err:
            problem = _("The templates could not be loaded: %(error)s") % {"error": err.message}
    context = {
        "pane": pane,
        "composer": facts,
        "channel_name": facts.channel.name,
        "templates": found,
        "problem": problem,
    }
    return await render_fragment(request, "inbox/_composer_templates.html", context)
