"""The CSAT pages: the public answer page an email links (token, once, CSRF, bad token
404) and the admin settings page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.csat import new_token
from hub.inbox.csat_settings import choices_part, load_csat_settings
from hub.store.models import Conversation, ConversationEvent, CsatSurvey, User
from tests.factories import Factory
from tests.test_ui_users import as_owner, error_of
from tests.ui_helpers import HTML, hidden, log_in_page

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]


async def asked(db: Sessions, factory: Factory, scale: int = 5) -> tuple[str, int]:
    """A closed conversation whose survey was sent with a page link; its token."""
    channel = await factory.channel(type_="email")
    conversation = await factory.conversation(channel=channel, status="closed")
    token = new_token()
    async with db() as session:
        session.add(
            CsatSurvey(
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                channel_id=channel.id,
                status="sent",
                scale=scale,
                token=token,
            )
        )
        await session.commit()
    return token, conversation.id


async def stored(db: Sessions) -> CsatSurvey:
    async with db() as session:
        row = await session.scalar(select(CsatSurvey))
        assert row is not None
        return row


async def test_the_page_takes_one_rating_and_comment_without_a_login(
    client: Client, db: Sessions, factory: Factory
) -> None:
    token, conversation_id = await asked(db, factory)
    response = await client.get(f"/csat/{token}")
    assert response.status == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src" in response.headers["Content-Security-Policy"]
    html = await response.text()
    assert "<script" not in html
    assert 'name="rating" value="5"' in html and 'name="rating" value="6"' not in html
    form_token = hidden(html, "form_token")

    answered = await client.post(
        f"/csat/{token}",
        data={"form_token": form_token, "rating": "4", "comment": "Quick <b>and</b> kind"},
    )
    assert answered.status == 200
    page = await answered.text()
    assert "4 out of 5" in page and "<b>and</b>" not in page
    row = await stored(db)
    assert (row.status, row.rating, row.comment, row.answered_via) == (
        "answered",
        4,
        "Quick <b>and</b> kind",
        "page",
    )
    async with db() as session:
        kinds = list(
            await session.scalars(
                select(ConversationEvent.kind).where(
                    ConversationEvent.conversation_id == conversation_id
                )
            )
        )
        conversation = await session.get_one(Conversation, conversation_id)
    assert kinds.count("csat_rated") == 1
    assert conversation.status == "closed"

    # The page works once: a second post changes nothing; the link then says thanks.
    again = await client.post(f"/csat/{token}", data={"form_token": form_token, "rating": "1"})
    assert again.status == 409
    assert "answered already" in await again.text()
    assert (await stored(db)).rating == 4
    later = await (await client.get(f"/csat/{token}")).text()
    assert "answered already" in later and 'name="rating"' not in later


async def test_bad_tokens_ratings_and_forms_are_refused(
    client: Client, db: Sessions, factory: Factory
) -> None:
    token, _ = await asked(db, factory, scale=3)
    for bad in ("nope", new_token(), "x" * 65):
        response = await client.get(f"/csat/{bad}", headers=HTML)
        assert response.status == 404, bad
    form_token = hidden(await (await client.get(f"/csat/{token}")).text(), "form_token")
    # No form token (another site's form): refused, nothing stored.
    forged = await client.post(f"/csat/{token}", data={"rating": "3"})
    assert forged.status == 403
    cookie_only = await client.post(f"/csat/{token}", data={"form_token": "x", "rating": "3"})
    assert cookie_only.status == 403
    for rating in ("0", "4", "five", "", "9" * 5000, "²"):
        response = await client.post(
            f"/csat/{token}", data={"form_token": form_token, "rating": rating}
        )
        assert response.status == 422, rating
        assert "from 1 to 3" in await response.text()
    nul = await client.post(
        f"/csat/{token}", data={"form_token": form_token, "rating": "2", "comment": "a\x00b"}
    )
    assert nul.status == 422
    long = await client.post(
        f"/csat/{token}", data={"form_token": form_token, "rating": "2", "comment": "c" * 1001}
    )
    assert long.status == 422
    unknown = await client.post(
        f"/csat/{new_token()}", data={"form_token": form_token, "rating": "2"}, headers=HTML
    )
    assert unknown.status == 404
    row = await stored(db)
    assert (row.status, row.rating) == ("sent", None)


async def test_the_admin_page_turns_surveys_on_and_lists_ratings(
    client: Client, make_user: MakeUser, db: Sessions, factory: Factory
) -> None:
    _, csrf = await as_owner(client, make_user)
    chat = await factory.channel(name="Chat")
    mail = await factory.channel(type_="email", name="Mail")
    page = await (await client.get("/admin/csat", headers=HTML)).text()
    assert "Satisfaction survey" in page and "No ratings yet." in page
    assert (
        f'id="ask-channel-{chat.id}" name="ask_channel" type="checkbox" value="{chat.id}" checked'
        in page
    )
    form = {"csrf_token": csrf, "enabled": "on", "question": "How was it?", "scale": "3"}
    # Only the chat is ticked: the mailbox is left out.
    saved = await client.post(
        "/admin/csat", data={**form, "ask_channel": str(chat.id)}, allow_redirects=False
    )
    assert saved.status == 303
    async with db() as session:
        settings = await load_csat_settings(session)
    assert (settings.enabled, settings.question, settings.scale) == (True, "How was it?", 3)
    assert settings.off_channel_ids == [mail.id]
    assert settings.since is not None
    page = await (await client.get("/admin/csat", headers=HTML)).text()
    assert f'value="{mail.id}">' in page and f'value="{mail.id}" checked' not in page

    weird = await client.post("/admin/csat", data={**form, "scale": "²"})
    assert weird.status == 422
    bad = await client.post("/admin/csat", data={**form, "question": "", "scale": "4"})
    assert bad.status == 422
    html = await bad.text()
    assert error_of(html, "question") and error_of(html, "scale")

    token, conversation_id = await asked(db, factory)
    async with db() as session:
        row = await session.scalar(select(CsatSurvey).where(CsatSurvey.token == token))
        assert row is not None
        row.status, row.rating, row.comment = "answered", 5, "Lovely"
        await session.commit()
    page = await (await client.get("/admin/csat", headers=HTML)).text()
    assert f"Conversation #{conversation_id}" in page and "5/5" in page and "Lovely" in page


async def test_the_pane_shows_a_surveys_buttons_its_events_and_the_rating(
    client: Client, make_user: MakeUser, db: Sessions, factory: Factory
) -> None:
    await as_owner(client, make_user)
    channel = await factory.channel(type_="telegram")
    conversation = await factory.conversation(channel=channel, status="closed")
    await factory.message(
        conversation,
        "How did we do?",
        direction="out",
        status="sent",
        parts=[choices_part(3)],
    )
    async with db() as session:
        session.add_all(
            [
                ConversationEvent(
                    conversation_id=conversation.id,
                    kind="csat_sent",
                    data={"scale": 3, "buttons": True},
                ),
                ConversationEvent(
                    conversation_id=conversation.id,
                    kind="csat_rated",
                    data={"rating": 2, "scale": 3, "comment": "Slow <i>reply</i>", "via": "page"},
                ),
                CsatSurvey(
                    conversation_id=conversation.id,
                    contact_id=conversation.contact_id,
                    channel_id=channel.id,
                    status="answered",
                    scale=3,
                    rating=2,
                    comment="Slow <i>reply</i>",
                ),
            ]
        )
        await session.commit()
    html = await (
        await client.get(f"/inbox/conversations/{conversation.id}?full=1", headers=HTML)
    ).text()
    assert "Sent with buttons" in html
    assert "<li>1 · Poor</li><li>2 · OK</li><li>3 · Great</li>" in html
    assert "The hub asked the contact for a rating from 1 to 3, with buttons" in html
    assert "Customer rated 2/3</span>: “Slow &lt;i&gt;reply&lt;/i&gt;”" in html
    assert 'data-csat-rating="2"' in html and "CSAT 2/3" in html


async def test_the_panel_shows_the_rating_only_of_a_conversation_the_viewer_sees(
    client: Client, make_user: MakeUser, db: Sessions, factory: Factory
) -> None:
    agent = await make_user("ben@example.com", name="Ben", visibility="assigned")
    await log_in_page(client, "ben@example.com")
    channel = await factory.channel()
    mine = await factory.conversation(channel=channel, status="closed", assignee_id=agent.id)
    hidden = await factory.conversation(channel=channel, contact=None, status="closed")
    async with db() as session:
        other = await session.get_one(Conversation, hidden.id)
        other.contact_id = mine.contact_id  # the same contact, not assigned to Ben
        for conversation, rating in ((mine, 5), (hidden, 1)):
            session.add(
                CsatSurvey(
                    conversation_id=conversation.id,
                    contact_id=mine.contact_id,
                    channel_id=channel.id,
                    status="answered",
                    scale=5,
                    rating=rating,
                )
            )
        await session.commit()
    base = f"/inbox/contacts/{mine.contact_id}/panel"
    seen = await (await client.get(base, params={"conversation_id": mine.id}, headers=HTML)).text()
    assert "5/5</span> for this conversation" in seen
    response = await client.get(base, params={"conversation_id": hidden.id}, headers=HTML)
    assert response.status == 200
    assert "Satisfaction" not in await response.text()
